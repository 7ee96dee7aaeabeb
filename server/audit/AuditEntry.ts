import { canonical } from '../integrity/index.js';

/**
 * What the trail records. Names say what happened, not who asked:
 * `peer.kicked` is the host's act, `peer.left` (reason `removed`) its effect.
 */
export const AUDIT_EVENT_TYPES = [
	// Presence: who saw the consult.
	'peer.waiting',
	'peer.joined',
	'peer.admitted',
	'peer.denied',
	'peer.kicked',
	'peer.left',
	'room.ended',
	// Recordings: who recorded, who consented, who read, what was deleted.
	'recording.started',
	'recording.stopped',
	'recording.consent',
	'recording.listed',
	'recording.viewed',
	'recording.downloaded',
	'recording.deleted',
	'recording.legal_hold',
	// Devices.
	'ingest.source_added',
	'ingest.source_removed',
	'ingest.endpoint_opened',
	// Refusals: a bad or missing token, an action the role may not take.
	'access.refused',
	'access.forbidden',
	// Refusals of unauthenticated clients beyond the first of each kind, counted per address and window.
	'auth.refused',
	// Admin REST calls without an event of their own.
	'admin.action',
	// The trail itself.
	'audit.started',
	'audit.queried',
	'audit.expired',
	'audit.dropped',
	'audit.recovered',
	'checkpoint',
] as const;

export type AuditEventType = (typeof AUDIT_EVENT_TYPES)[number];

/**
 * A person or device in an entry: the token's opaque `sub` and role (and the
 * peer id inside a room) — never a display name, never a token.
 */
export interface AuditParty {
	sub: string;
	role: string;
	peerId?: string;
}

/** Small flat details: codes, ids, counts, reasons. Never names, URLs or tokens. */
export type AuditData = Record<string, string | number | boolean | null>;

/** What a caller records; the log adds sequence, time, node and chain. */
export interface AuditEvent {
	type: AuditEventType;
	/** Who did it; null when the system did (retention, failures, shutdown). */
	actor: AuditParty | null;
	/** Whom it was done to, when that is someone else (admit, kick). */
	target?: AuditParty;
	room?: string;
	recordingId?: string;
	data?: AuditData;
}

/**
 * One line of the trail (JSON, in this key order). `hash` is SHA-256 over
 * the RFC 8785 canonical JSON of the entry without `hash`; `prev` is the
 * previous entry's hash (GENESIS for a node's first), so every entry commits
 * to the whole trail before it — across files, since a new file's first
 * entry's `prev` is the last hash of the file before.
 */
export interface AuditEntry extends AuditEvent {
	v: 1;
	/** Per node, from 0, never reused; a gap is a deleted entry. */
	seq: number;
	ts: string;
	node: string;
	prev: string;
	hash: string;
}

/**
 * A checkpoint is an entry of type `checkpoint` whose data holds an Ed25519
 * signature over `checkpointPayload`: the node, its own seq and time, and
 * `prev` — the head of the chain it seals. Editing any entry before it, even
 * with every later hash recomputed, changes that head and breaks the signature.
 */
export interface CheckpointData extends AuditData {
	keyId: string;
	/** Base64 SPKI DER of the signing key (lets a verifier without the key file check consistency). */
	publicKey: string;
	signature: string;
}

export function checkpointPayload(entry: Pick<AuditEntry, 'node' | 'seq' | 'ts' | 'prev'>): string {
	return canonical({ purpose: 'audit-checkpoint', node: entry.node, seq: entry.seq, ts: entry.ts, head: entry.prev });
}

/** The line as written: compact JSON in a fixed key order (the verifier checks lines byte for byte). */
export function entryLine(entry: AuditEntry): string {
	return JSON.stringify(entry);
}

/** Files of one node: `audit-<first seq, 12 digits>-<UTC day of the first entry>.jsonl`. */
export const FILE_PATTERN = /^audit-(\d{12})-(\d{8})\.jsonl$/;

export function auditFileName(firstSeq: number, ts: string): string {
	return `audit-${String(firstSeq).padStart(12, '0')}-${utcDay(ts)}.jsonl`;
}

/** `YYYYMMDD` of an ISO time, UTC. */
export function utcDay(ts: string): string {
	return ts.slice(0, 10).replaceAll('-', '');
}
