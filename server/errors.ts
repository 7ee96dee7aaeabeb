import type { ErrorCode } from './signaling/protocol.js';

/**
 * An expected failure with a stable protocol code: a request that cannot be
 * served as asked. Anything else reaching a client is an internal error.
 */
export class SfuError extends Error {
	readonly code: ErrorCode;
	/** Where to go instead (with `room_elsewhere`). */
	readonly redirectUrl: string | undefined;

	constructor(code: ErrorCode, message: string, options: { redirectUrl?: string } = {}) {
		super(message);
		this.name = 'SfuError';
		this.code = code;
		this.redirectUrl = options.redirectUrl;
	}
}
