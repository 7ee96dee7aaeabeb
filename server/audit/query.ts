import { utcDay, type AuditEntry } from './AuditEntry.js';
import { listAuditFiles, listNodeDirs, readLines } from './auditFiles.js';

export interface AuditQuery {
	/** Entries about this room. */
	room?: string;
	/** Entries where this user (`sub`) acted or was acted on. */
	sub?: string;
	/** Entries of this type (checkpoints are left out unless asked for). */
	type?: string;
	/** From this time, inclusive. */
	from?: Date;
	/** Until this time, exclusive. */
	to?: Date;
	/** The `nextCursor` of the previous page. */
	cursor?: string;
	limit: number;
}

export interface AuditPage {
	/** Oldest first (time, then node, then seq). */
	entries: AuditEntry[];
	/** Pass as `cursor` for the next page; null on the last page. */
	nextCursor: string | null;
}

type SortKey = [ts: string, node: string, seq: number];

const keyOf = (e: AuditEntry): SortKey => [e.ts, e.node, e.seq];

function compare(a: SortKey, b: SortKey): number {
	return a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : a[1] < b[1] ? -1 : a[1] > b[1] ? 1 : a[2] - b[2];
}

export function encodeCursor(key: SortKey): string {
	return Buffer.from(JSON.stringify(key)).toString('base64url');
}

/** The position a cursor stands for; throws on anything that is not one. */
export function decodeCursor(cursor: string): SortKey {
	const value = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as unknown;
	if (!Array.isArray(value) || value.length !== 3 || typeof value[0] !== 'string' || typeof value[1] !== 'string' || typeof value[2] !== 'number') {
		throw new Error('not a cursor');
	}
	return value as SortKey;
}

/**
 * Reads the trails of every node folder under `root` (a shared volume holds
 * a cluster's; otherwise just this node's) and returns one page of matching
 * entries. Files are skipped by the UTC day in their names; memory stays
 * bounded by the page size, whatever the trail's length.
 */
export async function queryAudit(root: string, query: AuditQuery): Promise<AuditPage> {
	const after = query.cursor ? decodeCursor(query.cursor) : null;
	const fromDay = query.from ? utcDay(query.from.toISOString()) : null;
	const toDay = query.to ? utcDay(new Date(query.to.getTime() - 1).toISOString()) : null;
	const fromIso = query.from?.toISOString();
	const toIso = query.to?.toISOString();
	const keep = query.limit + 1;
	let matches: AuditEntry[] = [];
	const trim = (): void => {
		matches.sort((a, b) => compare(keyOf(a), keyOf(b)));
		matches = matches.slice(0, keep);
	};

	for (const { dir } of listNodeDirs(root)) {
		for (const file of listAuditFiles(dir)) {
			if ((fromDay && file.day < fromDay) || (toDay && file.day > toDay)) continue;
			if (after && file.day < utcDay(after[0])) continue;
			for await (const { line } of readLines(file.path)) {
				// Cheap text filters first: most lines are about other rooms and people.
				if (query.room && !line.includes(JSON.stringify(query.room))) continue;
				if (query.sub && !line.includes(JSON.stringify(query.sub))) continue;
				let entry: AuditEntry;
				try {
					entry = JSON.parse(line) as AuditEntry;
				} catch {
					continue; // The verifier reports it.
				}
				if (query.type ? entry.type !== query.type : entry.type === 'checkpoint') continue;
				if (query.room && entry.room !== query.room) continue;
				if (query.sub && entry.actor?.sub !== query.sub && entry.target?.sub !== query.sub) continue;
				if ((fromIso && entry.ts < fromIso) || (toIso && entry.ts >= toIso)) continue;
				if (after && compare(keyOf(entry), after) <= 0) continue;
				matches.push(entry);
				if (matches.length >= keep * 4) trim();
			}
		}
	}
	trim();
	const page = matches.slice(0, query.limit);
	const last = page.at(-1);
	return { entries: page, nextCursor: matches.length > query.limit && last ? encodeCursor(keyOf(last)) : null };
}
