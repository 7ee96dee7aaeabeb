import { createPublicKey, type KeyObject } from 'node:crypto';
import path from 'node:path';
import { entryHash, GENESIS, keyIdOf, verifySignature } from '../integrity/index.js';
import { checkpointPayload, entryLine, type AuditEntry, type CheckpointData } from './AuditEntry.js';
import { listAuditFiles, readLines } from './auditFiles.js';

export type AuditProblemKind = 'no_trail' | 'unreadable' | 'edited' | 'out_of_order' | 'broken_link' | 'bad_signature' | 'untrusted_key' | 'wrong_node' | 'misnamed_file' | 'start_missing' | 'anchor_missing';

export interface AuditProblem {
	kind: AuditProblemKind;
	/** File name (inside the node folder) and 1-based line, when the problem is a line. */
	file?: string;
	line?: number;
	seq?: number;
	message: string;
}

export interface AuditVerifyReport {
	ok: boolean;
	node: string;
	files: number;
	entries: number;
	checkpoints: number;
	/** Seq and hash of the last entry read. */
	head: { seq: number; hash: string } | null;
	/** Entries after the last valid checkpoint: consistent, but not yet signed. */
	unsigned: number;
	/** Facts worth knowing that are not tampering (retention, the unsigned tail). */
	notes: string[];
	problems: AuditProblem[];
}

export interface VerifyAuditOptions {
	/** PEM of the key checkpoints must be signed with. Without it, each checkpoint is checked against the key it names. */
	trustedPublicKeyPem?: string;
	/** Node id every entry must carry. Default: the folder's name. */
	node?: string;
	/** A head known from outside the trail (a checkpoint logged earlier): it must still be in the chain. */
	anchor?: { seq: number; hash: string };
}

/** How far back out-of-order lines are matched to their predecessors. */
const WINDOW = 100_000;

/**
 * Checks one node's trail: each line exactly as written, each entry's hash,
 * the order of sequence numbers, each entry's link to its predecessor (across
 * files), each checkpoint's signature, and where the chain may legitimately
 * start (GENESIS, or where retention says it deleted older files). Every
 * problem names the file and line.
 */
export async function verifyAuditTrail(nodeDir: string, options: VerifyAuditOptions = {}): Promise<AuditVerifyReport> {
	const node = options.node ?? path.basename(path.resolve(nodeDir));
	const trusted = options.trustedPublicKeyPem ? createPublicKey(options.trustedPublicKeyPem) : null;
	const trustedId = trusted ? keyIdOf(trusted) : null;
	const report: AuditVerifyReport = { ok: false, node, files: 0, entries: 0, checkpoints: 0, head: null, unsigned: 0, notes: [], problems: [] };
	const files = listAuditFiles(nodeDir);
	report.files = files.length;
	if (files.length === 0) {
		report.problems.push({ kind: 'no_trail', message: `no audit files in ${nodeDir}` });
		return report;
	}

	/** seq → the hash the line states and the hash its content gives (they differ on an edited line). */
	const seen = new Map<number, { stated: string; computed: string }>();
	const deferred: { where: { file: string; line: number }; seq: number; prev: string }[] = [];
	const expiries: { resumeSeq: number; resumePrev: string; ts: string }[] = [];
	const keys = new Map<string, KeyObject>();
	let start: { seq: number; prev: string; file: string; line: number; trusted: boolean } | null = null;
	/** Seqs of unreadable lines: their successors are not blamed for them. */
	const unreadable = new Set<number>();
	let maxSeq = -1;
	let anchorFound = false;
	const problem = (kind: AuditProblemKind, file: string, line: number, seq: number | undefined, message: string): void => {
		report.problems.push({ kind, file, line, ...(seq !== undefined ? { seq } : {}), message: `${file}:${line}${seq !== undefined ? ` (seq ${seq})` : ''}: ${message}` });
	};

	for (const file of files) {
		let firstOfFile = true;
		for await (const { line: text, number } of readLines(file.path)) {
			let entry: AuditEntry;
			try {
				entry = JSON.parse(text) as AuditEntry;
				if (typeof entry !== 'object' || entry === null || typeof entry.seq !== 'number' || typeof entry.hash !== 'string') throw new Error('not an entry');
			} catch {
				problem('unreadable', file.name, number, undefined, 'not a readable entry: the line was edited or corrupted');
				maxSeq += 1;
				unreadable.add(maxSeq);
				start ??= { seq: maxSeq, prev: GENESIS, file: file.name, line: number, trusted: false };
				firstOfFile = false;
				continue;
			}
			report.entries += 1;
			const computed = entryHash(entry as unknown as Record<string, unknown>);
			const edited = computed !== entry.hash || entryLine(entry) !== text;
			// An edited line's seq cannot be trusted: it stands where the next one should.
			const seq = edited ? maxSeq + 1 : entry.seq;
			if (edited) {
				problem('edited', file.name, number, seq, 'the entry was edited: its content no longer matches its hash');
			} else if (entry.seq !== maxSeq + 1 && start !== null) {
				const gap = entry.seq > maxSeq + 1;
				problem(
					'out_of_order',
					file.name,
					number,
					entry.seq,
					gap
						? `expected seq ${maxSeq + 1}: ${entry.seq - maxSeq - 1 === 1 ? `entry ${maxSeq + 1} is` : `entries ${maxSeq + 1}–${entry.seq - 1} are`} missing before this line (deleted or moved)`
						: `seq ${entry.seq} comes after seq ${maxSeq}: lines were reordered or repeated`,
				);
			}
			if (start === null) start = { seq: entry.seq, prev: entry.prev, file: file.name, line: number, trusted: !edited };
			else if (!edited) deferred.push({ where: { file: file.name, line: number }, seq: entry.seq, prev: entry.prev });
			if (firstOfFile && !edited && entry.seq !== file.firstSeq) problem('misnamed_file', file.name, number, entry.seq, `the file is named for seq ${file.firstSeq} but starts at seq ${entry.seq}: files were renamed`);
			firstOfFile = false;
			if (!edited && entry.node !== node) problem('wrong_node', file.name, number, seq, `entry of node "${entry.node}" in the trail of "${node}"`);

			seen.set(seq, { stated: entry.hash, computed });
			seen.delete(seq - WINDOW);
			maxSeq = Math.max(maxSeq, seq);
			report.head = { seq, hash: entry.hash };
			if (options.anchor && entry.seq === options.anchor.seq && entry.hash === options.anchor.hash && !edited) anchorFound = true;

			if (entry.type === 'checkpoint' && !edited) {
				const data = entry.data as CheckpointData | undefined;
				let key = data ? keys.get(data.publicKey) : undefined;
				if (data && !key) {
					try {
						key = createPublicKey({ key: Buffer.from(data.publicKey, 'base64'), format: 'der', type: 'spki' });
						keys.set(data.publicKey, key);
					} catch {
						key = undefined;
					}
				}
				if (!data || !key || keyIdOf(key) !== data.keyId || !verifySignature(key, checkpointPayload(entry), data.signature)) {
					problem('bad_signature', file.name, number, seq, 'the checkpoint signature does not match the chain it seals');
				} else if (trustedId && data.keyId !== trustedId) {
					problem('untrusted_key', file.name, number, seq, 'the checkpoint is signed with a key other than the trusted one');
				} else if (!edited) {
					report.checkpoints += 1;
					report.unsigned = 0;
					continue;
				}
			} else if (entry.type === 'audit.expired' && !edited && entry.data) {
				const { resumeSeq, resumePrev } = entry.data;
				if (typeof resumeSeq === 'number' && typeof resumePrev === 'string') expiries.push({ resumeSeq, resumePrev, ts: entry.ts });
			}
			report.unsigned += 1;
		}
	}

	for (const link of deferred) {
		const before = seen.get(link.seq - 1);
		if (unreadable.has(link.seq - 1)) continue;
		if (!before || (link.prev !== before.stated && link.prev !== before.computed)) {
			if (!report.problems.some((p) => p.file === link.where.file && p.line === link.where.line)) {
				problem('broken_link', link.where.file, link.where.line, link.seq, `does not follow entry ${link.seq - 1}: the entry before it was replaced or removed`);
			}
		}
	}

	if (start?.trusted && !(start.seq === 0 && start.prev === GENESIS)) {
		const expiry = expiries.find((e) => e.resumeSeq === start.seq && e.resumePrev === start.prev);
		if (expiry) report.notes.push(`entries before seq ${start.seq} were deleted by retention (recorded at ${expiry.ts})`);
		else problem('start_missing', start.file, start.line, start.seq, `the trail starts at seq ${start.seq} and no retention entry accounts for the entries before it: older files were deleted`);
	}
	if (options.anchor && !anchorFound) {
		report.problems.push({ kind: 'anchor_missing', seq: options.anchor.seq, message: `the anchor seq ${options.anchor.seq} (${options.anchor.hash.slice(0, 12)}…) is not in the trail: it was truncated or rewritten` });
	}
	if (report.unsigned > 0) report.notes.push(`${report.unsigned} entries after the last checkpoint are chained but not yet signed (a running node signs them within its checkpoint interval)`);
	report.ok = report.problems.length === 0;
	return report;
}
