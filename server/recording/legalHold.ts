import { readFileSync, renameSync } from 'node:fs';
import path from 'node:path';
import { writePrivateFile } from './privateFiles.js';

/** Beside the manifest; its absence means no hold. */
export const LEGAL_HOLD_FILE = 'legal-hold.json';

export interface LegalHold {
	hold: boolean;
	/** When it was last set or lifted. */
	updatedAt: string;
	/** Opaque `sub` of the admin who did it. */
	updatedBy: string;
}

/**
 * A recording under legal hold (litigation, a complaint, an inquiry) must not
 * be deleted by anyone or by retention until an admin lifts the hold.
 */
export function readLegalHold(recordingDir: string): LegalHold | null {
	try {
		const value = JSON.parse(readFileSync(path.join(recordingDir, LEGAL_HOLD_FILE), 'utf8')) as LegalHold;
		return typeof value.hold === 'boolean' ? value : null;
	} catch {
		return null;
	}
}

export function isOnLegalHold(recordingDir: string): boolean {
	return readLegalHold(recordingDir)?.hold === true;
}

/** Written atomically: a crash never leaves a half-written hold. */
export function writeLegalHold(recordingDir: string, hold: boolean, by: string): LegalHold {
	const value: LegalHold = { hold, updatedAt: new Date().toISOString(), updatedBy: by };
	const target = path.join(recordingDir, LEGAL_HOLD_FILE);
	writePrivateFile(`${target}.tmp`, `${JSON.stringify(value, null, 2)}\n`);
	renameSync(`${target}.tmp`, target);
	return value;
}
