import { chmodSync, closeSync, fchmodSync, mkdirSync, openSync, writeSync } from 'node:fs';

/**
 * Recordings are medical records: their folders are 0700 and their files 0600
 * whatever the process umask, so no other local account can read or replace
 * them. (The recordings folder's owner is the server's account.)
 */
export const PRIVATE_DIR_MODE = 0o700;
export const PRIVATE_FILE_MODE = 0o600;

/** Creates the folder (and missing parents) and makes the folder itself 0700. */
export function makePrivateDir(dir: string): void {
	mkdirSync(dir, { recursive: true, mode: PRIVATE_DIR_MODE });
	chmodSync(dir, PRIVATE_DIR_MODE);
}

/** Writes (creates or truncates) a file that ends up 0600 even if it existed with other bits. */
export function writePrivateFile(file: string, data: string): void {
	const fd = openSync(file, 'w', PRIVATE_FILE_MODE);
	try {
		fchmodSync(fd, PRIVATE_FILE_MODE);
		writeSync(fd, data);
	} finally {
		closeSync(fd);
	}
}

/** Makes a file another process (ffmpeg) created 0600; a file already gone is no error. */
export function makePrivateFile(file: string): void {
	try {
		chmodSync(file, PRIVATE_FILE_MODE);
	} catch {
		// Removed meanwhile (an empty segment dropped): nothing to protect.
	}
}
