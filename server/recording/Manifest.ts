import { renameSync } from 'node:fs';
import path from 'node:path';
import { canonical, entryHash, GENESIS, type SigningKey } from '../integrity/index.js';
import { writePrivateFile } from './privateFiles.js';

export const MANIFEST_FILE = 'manifest.json';

interface EntryBase {
	seq: number;
	/** Opaque peer id of the recorded participant (never a name). */
	participantId: string;
	/** Hash of the previous entry (GENESIS for the first). */
	prev: string;
	/** SHA-256 of this entry's canonical JSON without `hash`. */
	hash: string;
}

export interface SegmentEntry extends EntryBase {
	type: 'segment';
	/** Path relative to the recording folder. */
	file: string;
	sha256: string;
	size: number;
	durationSec: number;
	/** Wall-clock start of the segment (ISO 8601). */
	startedAt: string;
	/** The recorder died while writing it; readable up to its last flushed cluster. */
	partial: boolean;
	/** Codecs inside, e.g. ["opus", "vp8"]. */
	codecs: string[];
}

export interface GapEntry extends EntryBase {
	type: 'gap';
	from: string;
	to: string;
	/** Why nothing was recorded: recorder_restarted, consent_withdrawn, … */
	reason: string;
}

/**
 * The composed consult video (final/consult.mp4), appended after the stop:
 * its hash, and the segments it was made from, so a reviewer can check both
 * the file and its provenance.
 */
export interface CompositionEntry extends Omit<EntryBase, 'participantId'> {
	type: 'composition';
	/** Made from every participant: no single one. */
	participantId?: never;
	/** Path relative to the recording folder. */
	file: string;
	sha256: string;
	size: number;
	durationSec: number;
	/** e.g. ["h264", "aac"]. */
	codecs: string[];
	width: number;
	height: number;
	createdAt: string;
	/** The segment entries it was made from (their seq and file hash). */
	madeFrom: { seq: number; sha256: string }[];
}

export type ManifestEntry = SegmentEntry | GapEntry | CompositionEntry;

export type RecordingState = 'recording' | 'stopped' | 'failed';

export interface ManifestDocument {
	version: 1;
	recordingId: string;
	roomId: string;
	startedAt: string;
	stoppedAt: string | null;
	state: RecordingState;
	/** Set when the recording failed (e.g. disk_full). */
	error: { code: string; message: string } | null;
	consentRequired: boolean;
	segmentSeconds: number;
	/**
	 * The recording this one continues, when its node was stopped mid-consult (a
	 * rolling update) and the recording moved here. Absent otherwise.
	 */
	continuesFrom?: string;
	entries: ManifestEntry[];
	/** Hash of the last entry: what the signature commits to. */
	head: string;
	signature: { algorithm: 'Ed25519'; keyId: string; publicKey: string; value: string };
}

/** What the signature covers. */
export function signedPayload(doc: Pick<ManifestDocument, 'recordingId' | 'roomId' | 'startedAt' | 'stoppedAt' | 'state' | 'entries' | 'head'>): string {
	return canonical({
		recordingId: doc.recordingId,
		roomId: doc.roomId,
		startedAt: doc.startedAt,
		stoppedAt: doc.stoppedAt,
		state: doc.state,
		entries: doc.entries.length,
		head: doc.head,
	});
}

type NewEntry = Omit<SegmentEntry, 'seq' | 'prev' | 'hash'> | Omit<GapEntry, 'seq' | 'prev' | 'hash'>;

/**
 * The recording's manifest on disk: a hash chain of segment and gap entries,
 * re-signed and atomically rewritten after every change, so a crash leaves
 * the last consistent version in place.
 */
export class ManifestWriter {
	readonly #dir: string;
	readonly #key: SigningKey;
	readonly #doc: ManifestDocument;

	constructor(dir: string, meta: { recordingId: string; roomId: string; consentRequired: boolean; segmentSeconds: number; continuesFrom?: string }, key: SigningKey) {
		this.#dir = dir;
		this.#key = key;
		this.#doc = {
			version: 1,
			...meta,
			startedAt: new Date().toISOString(),
			stoppedAt: null,
			state: 'recording',
			error: null,
			entries: [],
			head: GENESIS,
			signature: { algorithm: 'Ed25519', keyId: key.keyId, publicKey: key.publicKeyPem(), value: '' },
		};
		this.#write();
	}

	get document(): Readonly<ManifestDocument> {
		return this.#doc;
	}

	append(entry: NewEntry): ManifestEntry {
		const full = { ...entry, seq: this.#doc.entries.length, prev: this.#doc.head, hash: '' };
		full.hash = entryHash(full);
		this.#doc.entries.push(full);
		this.#doc.head = full.hash;
		this.#write();
		return full;
	}

	/** `at`: when the recording stopped (sealing the last segments can take a while after). */
	finish(state: Exclude<RecordingState, 'recording'>, error?: { code: string; message: string }, at = new Date()): void {
		this.#doc.state = state;
		this.#doc.stoppedAt = at.toISOString();
		this.#doc.error = error ?? null;
		this.#write();
	}

	#write(): void {
		this.#doc.signature.value = this.#key.sign(signedPayload(this.#doc));
		const target = path.join(this.#dir, MANIFEST_FILE);
		const temp = `${target}.tmp`;
		writePrivateFile(temp, `${JSON.stringify(this.#doc, null, 2)}\n`);
		renameSync(temp, target);
	}
}
