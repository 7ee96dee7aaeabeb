import { readFileSync, renameSync } from 'node:fs';
import path from 'node:path';
import { entryHash, type SigningKey } from '../integrity/index.js';
import { MANIFEST_FILE, signedPayload, type CompositionEntry, type ManifestDocument } from './Manifest.js';
import { writePrivateFile } from './privateFiles.js';

export type NewCompositionEntry = Omit<CompositionEntry, 'seq' | 'prev' | 'hash'>;

/** Reads a recording's manifest from its folder. */
export function readManifest(dir: string): ManifestDocument {
	return JSON.parse(readFileSync(path.join(dir, MANIFEST_FILE), 'utf8')) as ManifestDocument;
}

/**
 * Appends an entry to a stopped recording's manifest: chained to the last
 * entry, re-signed (with the node's current key, which the signature block
 * then names), atomically rewritten. Only for stopped recordings: a live one
 * belongs to its ManifestWriter.
 */
export function appendToSealedManifest(dir: string, key: SigningKey, entry: NewCompositionEntry): CompositionEntry {
	const doc = readManifest(dir);
	if (doc.state === 'recording') throw new Error('the recording is still running');
	const full = { ...entry, seq: doc.entries.length, prev: doc.head, hash: '' } as CompositionEntry;
	full.hash = entryHash(full as unknown as Record<string, unknown>);
	doc.entries.push(full);
	doc.head = full.hash;
	doc.signature = { algorithm: 'Ed25519', keyId: key.keyId, publicKey: key.publicKeyPem(), value: key.sign(signedPayload(doc)) };
	const target = path.join(dir, MANIFEST_FILE);
	const temp = `${target}.tmp`;
	writePrivateFile(temp, `${JSON.stringify(doc, null, 2)}\n`);
	renameSync(temp, target);
	return full;
}
