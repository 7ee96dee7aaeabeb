import { createPublicKey } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { entryHash, GENESIS, hashFile, keyIdOf, verifySignature } from '../integrity/index.js';
import { MANIFEST_FILE, signedPayload, type CompositionEntry, type ManifestDocument, type SegmentEntry } from './Manifest.js';

export type ProblemKind = 'manifest_unreadable' | 'bad_signature' | 'untrusted_key' | 'chain_broken' | 'modified' | 'missing' | 'reordered' | 'added' | 'bad_provenance';

export interface VerifyProblem {
	kind: ProblemKind;
	/** The segment file concerned, relative to the recording folder. */
	file?: string;
	/** The manifest entry concerned. */
	seq?: number;
	message: string;
}

export interface VerifyReport {
	ok: boolean;
	recordingId: string | null;
	segments: number;
	/** Composed consult videos in the manifest (each checked: its hash, and the segments it names). */
	compositions: number;
	problems: VerifyProblem[];
}

/**
 * Checks a recording folder against its manifest: the signature (against the
 * given trusted public key, when one is given), the hash chain, and every
 * segment's SHA-256; names each segment that was modified, removed,
 * reordered or added.
 */
export async function verifyRecording(dir: string, options: { trustedPublicKeyPem?: string } = {}): Promise<VerifyReport> {
	const problems: VerifyProblem[] = [];
	let doc: ManifestDocument;
	try {
		doc = JSON.parse(readFileSync(path.join(dir, MANIFEST_FILE), 'utf8')) as ManifestDocument;
	} catch (error) {
		return { ok: false, recordingId: null, segments: 0, compositions: 0, problems: [{ kind: 'manifest_unreadable', message: `cannot read ${MANIFEST_FILE}: ${(error as Error).message}` }] };
	}

	const embedded = createPublicKey(doc.signature.publicKey);
	if (options.trustedPublicKeyPem) {
		const trusted = createPublicKey(options.trustedPublicKeyPem);
		if (keyIdOf(trusted) !== keyIdOf(embedded)) {
			problems.push({ kind: 'untrusted_key', message: 'the manifest is signed with a key other than the trusted one' });
		}
	}
	if (!verifySignature(embedded, signedPayload(doc), doc.signature.value)) {
		problems.push({ kind: 'bad_signature', message: 'the manifest signature does not match its contents' });
	}

	let prev = GENESIS;
	doc.entries.forEach((entry, index) => {
		const where = entry.type === 'segment' ? ` (${entry.file})` : '';
		if (entry.seq !== index || entry.prev !== prev) {
			problems.push({ kind: 'chain_broken', seq: index, ...(entry.type === 'segment' ? { file: entry.file } : {}), message: `entry ${index}${where} does not follow entry ${index - 1}: entries were removed, inserted or reordered` });
		}
		if (entryHash(entry as unknown as Record<string, unknown>) !== entry.hash) {
			problems.push({ kind: 'chain_broken', seq: index, ...(entry.type === 'segment' ? { file: entry.file } : {}), message: `entry ${index}${where} was edited` });
		}
		prev = entry.hash;
	});
	if (doc.head !== prev) problems.push({ kind: 'chain_broken', message: 'the chain head does not match the last entry: trailing entries were removed' });

	const segments = doc.entries.filter((e): e is SegmentEntry => e.type === 'segment');
	const byHash = new Map(segments.map((s) => [s.sha256, s]));
	for (const segment of segments) {
		const file = path.join(dir, segment.file);
		if (!existsSync(file)) {
			problems.push({ kind: 'missing', seq: segment.seq, file: segment.file, message: `segment ${segment.seq} (${segment.file}) was removed` });
			continue;
		}
		const { sha256 } = await hashFile(file);
		if (sha256 === segment.sha256) continue;
		const other = byHash.get(sha256);
		if (other && other !== segment) {
			problems.push({ kind: 'reordered', seq: segment.seq, file: segment.file, message: `segment ${segment.seq} (${segment.file}) holds the content of segment ${other.seq} (${other.file}): segments were reordered` });
		} else {
			problems.push({ kind: 'modified', seq: segment.seq, file: segment.file, message: `segment ${segment.seq} (${segment.file}) was modified` });
		}
	}

	const compositions = doc.entries.filter((e): e is CompositionEntry => e.type === 'composition');
	for (const composition of compositions) problems.push(...(await checkComposition(dir, composition, doc)));

	const listed = new Set(segments.map((s) => path.normalize(s.file)));
	for (const file of segmentFilesIn(dir)) {
		if (!listed.has(file)) problems.push({ kind: 'added', file, message: `${file} is not in the manifest: a segment was added` });
	}

	return { ok: problems.length === 0, recordingId: doc.recordingId, segments: segments.length, compositions: compositions.length, problems };
}

/** A composed video: its bytes match, and it names segment entries that exist with those hashes. */
async function checkComposition(dir: string, composition: CompositionEntry, doc: ManifestDocument): Promise<VerifyProblem[]> {
	const where = { seq: composition.seq, file: composition.file };
	const problems: VerifyProblem[] = [];
	const file = path.join(dir, composition.file);
	if (!existsSync(file)) {
		problems.push({ kind: 'missing', ...where, message: `the composed video ${composition.file} was removed` });
	} else if ((await hashFile(file)).sha256 !== composition.sha256) {
		problems.push({ kind: 'modified', ...where, message: `the composed video ${composition.file} was modified` });
	}
	const madeFrom = Array.isArray(composition.madeFrom) ? composition.madeFrom : [];
	if (madeFrom.length === 0) problems.push({ kind: 'bad_provenance', ...where, message: `the composed video ${composition.file} names no segments it was made from` });
	for (const source of madeFrom) {
		const entry = doc.entries[source.seq];
		if (!entry || entry.type !== 'segment' || entry.sha256 !== source.sha256 || source.seq >= composition.seq) {
			problems.push({ kind: 'bad_provenance', ...where, message: `the composed video ${composition.file} names segment ${source.seq}, which is not a segment of this manifest with that hash` });
		}
	}
	return problems;
}

/** Segment files (.mkv) under a recording folder, relative paths. */
function segmentFilesIn(dir: string, sub = ''): string[] {
	const out: string[] = [];
	for (const name of readdirSync(path.join(dir, sub))) {
		const rel = path.join(sub, name);
		if (statSync(path.join(dir, rel)).isDirectory()) out.push(...segmentFilesIn(dir, rel));
		else if (name.endsWith('.mkv')) out.push(rel);
	}
	return out;
}
