/**
 * Label values must come from small, known sets: a value from anywhere else
 * (a client, a portal, an error message) could carry an identifier or grow
 * without bound. Everything unknown becomes `other`.
 */
export function bounded<T extends string>(value: unknown, allowed: readonly T[]): T | 'other' {
	return typeof value === 'string' && (allowed as readonly string[]).includes(value) ? (value as T) : 'other';
}

/** Socket.IO's disconnect reasons, as label values. */
export const DISCONNECT_REASONS = [
	'transport close',
	'transport error',
	'ping timeout',
	'parse error',
	'forced close',
	'server shutting down',
	'forced server close',
	'client namespace disconnect',
	'server namespace disconnect',
] as const;

/** Codes a recording may fail with (RecordingService, ParticipantRecorder). */
export const RECORDING_FAILURE_CODES = ['disk_full', 'recorder_failed'] as const;

export const MEDIA_KINDS = ['audio', 'video'] as const;
