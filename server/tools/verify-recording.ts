/**
 * Verifies a recording folder against its signed, hash-chained manifest.
 *
 *   npm run verify-recording -- <recording-dir> [--public-key <pem>]
 *
 * Without --public-key it trusts the node's key at
 * $DATA_DIR/keys/signing-ed25519.pub.pem when present; otherwise it checks
 * only that the manifest is consistent with the key it embeds (and says so).
 * Exit 0: OK. Exit 1: tampering found (each problem printed). Exit 2: usage.
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { verifyRecording } from '../recording/index.js';

const { values, positionals } = parseArgs({ options: { 'public-key': { type: 'string' } }, allowPositionals: true });
const dir = positionals[0];
if (!dir || positionals.length > 1) {
	process.stderr.write('usage: npm run verify-recording -- <recording-dir> [--public-key <pem file>]\n');
	process.exit(2);
}

const defaultKey = path.resolve(process.env['DATA_DIR'] ?? './data', 'keys', 'signing-ed25519.pub.pem');
const keyFile = values['public-key'] ?? (existsSync(defaultKey) ? defaultKey : undefined);
const report = await verifyRecording(path.resolve(dir), keyFile ? { trustedPublicKeyPem: readFileSync(keyFile, 'utf8') } : {});

if (report.ok) {
	process.stdout.write(`OK: recording ${report.recordingId}: ${report.segments} segments${report.compositions > 0 ? ` and ${report.compositions} composed video(s)` : ''} intact, chain and signature valid${keyFile ? ` (trusted key ${keyFile})` : ' (no trusted key given: checked against the embedded key only)'}\n`);
	process.exit(0);
}
process.stdout.write(`TAMPERED: recording ${report.recordingId ?? '(unknown)'}: ${report.problems.length} problem(s)\n`);
for (const problem of report.problems) process.stdout.write(`  ${problem.kind}: ${problem.message}\n`);
process.exit(1);
