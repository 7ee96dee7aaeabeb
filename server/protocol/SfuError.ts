import type { ErrorCode } from './vocabulary.js';

/**
 * An expected failure with a stable protocol code: a request that cannot be
 * served as asked. Every layer throws it where a client's request meets a
 * state it cannot be served in; signaling and HTTP answer its code and
 * message. Anything else reaching a client is an internal error.
 */
export class SfuError extends Error {
	readonly code: ErrorCode;
	/** Where to go instead (with `room_elsewhere`). */
	readonly redirectUrl: string | undefined;

	constructor(code: ErrorCode, message: string, options: { redirectUrl?: string; cause?: unknown } = {}) {
		super(message, options.cause !== undefined ? { cause: options.cause } : undefined);
		this.name = 'SfuError';
		this.code = code;
		this.redirectUrl = options.redirectUrl;
	}
}
