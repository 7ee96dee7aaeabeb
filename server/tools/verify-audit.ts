/**
 * Verifies audit trails: every line as written, every hash, the order of
 * sequence numbers, every link (across files), every checkpoint signature.
 *
 *   npm run verify-audit -- [<audit root or node folder>] [--public-key <pem>] [--anchor <seq>:<hash>] [--strict]
 *
 * Default folder: $DATA_DIR/audit (every node's trail under it). Without
 * --public-key it trusts $DATA_DIR/keys/signing-ed25519.pub.pem when present;
 * otherwise checkpoints are checked against the key they name (and it says so).
 * --anchor: a checkpoint head logged earlier ("audit checkpoint" log lines)
 * that must still be in the trail — what catches a truncated end.
 * --strict: entries after the last checkpoint (not yet signed) fail the check.
 * Exit 0: OK. Exit 1: tampering found (each problem printed with file:line), or no trail at all. Exit 2: usage.
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { listAuditFiles, listNodeDirs, verifyAuditTrail } from '../audit/index.js';

const usage = 'usage: npm run verify-audit -- [<audit root or node folder>] [--public-key <pem file>] [--anchor <seq>:<hash>] [--strict]\n';
let parsed: ReturnType<typeof parse>;
function parse() {
	return parseArgs({ options: { 'public-key': { type: 'string' }, anchor: { type: 'string' }, strict: { type: 'boolean' } }, allowPositionals: true });
}
try {
	parsed = parse();
} catch (error) {
	process.stderr.write(`${(error as Error).message}\n${usage}`);
	process.exit(2);
}
const { values, positionals } = parsed;
if (positionals.length > 1) {
	process.stderr.write(usage);
	process.exit(2);
}
const dataDir = process.env['DATA_DIR'] ?? './data';
const target = path.resolve(positionals[0] ?? path.join(dataDir, 'audit'));
let anchor: { seq: number; hash: string } | undefined;
if (values.anchor) {
	const match = /^(\d+):([0-9a-f]{64})$/.exec(values.anchor);
	if (!match) {
		process.stderr.write(`--anchor must be <seq>:<64 hex hash>\n${usage}`);
		process.exit(2);
	}
	anchor = { seq: Number(match[1]), hash: match[2]! };
}
const defaultKey = path.resolve(dataDir, 'keys', 'signing-ed25519.pub.pem');
const keyFile = values['public-key'] ?? (existsSync(defaultKey) ? defaultKey : undefined);
const trustedPublicKeyPem = keyFile ? readFileSync(keyFile, 'utf8') : undefined;

// A node folder holds audit-*.jsonl files; a root holds node folders.
const nodeDirs = listAuditFiles(target).length > 0 ? [target] : listNodeDirs(target).map((n) => n.dir);
if (nodeDirs.length === 0) {
	process.stdout.write(`NO TRAIL: no audit files in ${target}\n`);
	process.exit(1);
}

let failed = false;
for (const dir of nodeDirs) {
	const report = await verifyAuditTrail(dir, { ...(trustedPublicKeyPem ? { trustedPublicKeyPem } : {}), ...(anchor ? { anchor } : {}) });
	const unsignedFails = values.strict === true && report.unsigned > 0;
	const summary = `node ${report.node}: ${report.files} files, ${report.entries} entries, ${report.checkpoints} checkpoints`;
	if (report.ok && !unsignedFails) {
		process.stdout.write(`OK: ${summary}; chain and signatures valid${keyFile ? ` (trusted key ${keyFile})` : ' (no trusted key given: checked against the keys the checkpoints name)'}\n`);
	} else {
		failed = true;
		const count = report.problems.length + (unsignedFails ? 1 : 0);
		process.stdout.write(`TAMPERED: ${summary}; ${count} problem(s)\n`);
		for (const problem of report.problems) process.stdout.write(`  ${problem.kind}: ${problem.message}\n`);
		if (unsignedFails) process.stdout.write(`  unsigned: ${report.unsigned} entries after the last checkpoint are not signed (--strict)\n`);
	}
	for (const note of report.notes) process.stdout.write(`  note: ${note}\n`);
}
process.exit(failed ? 1 : 0);
