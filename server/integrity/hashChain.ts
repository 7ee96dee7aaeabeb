import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import canonicalize from 'canonicalize';

/** The `prev` of a chain's first entry. */
export const GENESIS = '0'.repeat(64);

/**
 * Hash of one chain entry: SHA-256 over the RFC 8785 canonical JSON of the
 * entry without its own `hash`, which includes `prev` — so each entry commits
 * to everything before it.
 */
export function entryHash(entry: Record<string, unknown>): string {
	const { hash: _hash, ...body } = entry;
	return sha256Hex(canonical(body));
}

export function canonical(value: unknown): string {
	const text = canonicalize(value);
	if (text === undefined) throw new Error('value cannot be canonicalized');
	return text;
}

export function sha256Hex(data: string | Buffer): string {
	return createHash('sha256').update(data).digest('hex');
}

/** SHA-256 and size of a file, streamed. */
export async function hashFile(file: string): Promise<{ sha256: string; size: number }> {
	const hash = createHash('sha256');
	let size = 0;
	for await (const chunk of createReadStream(file)) {
		hash.update(chunk as Buffer);
		size += (chunk as Buffer).length;
	}
	return { sha256: hash.digest('hex'), size };
}
