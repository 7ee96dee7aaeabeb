import type { ErrorCode } from './types.js';

/**
 * Codes the SDK raises itself, in addition to the protocol's
 * {@link ErrorCode}s that the server sends.
 */
export type ClientErrorCode =
	/** The server did not answer a request in time. */
	| 'request_timeout'
	/** The signaling connection could not be established (network, server down). */
	| 'connection_failed'
	/** The request needs a signaling connection and there is none right now. */
	| 'disconnected'
	/** The room is closed locally (left, kicked, ended); create a new one. */
	| 'closed'
	/** Camera, microphone or screen capture was refused or is unavailable. */
	| 'media_unavailable'
	/** The browser cannot send or receive this kind of media with this router. */
	| 'unsupported'
	/** The call does not fit the room's current state (e.g. publishing while waiting). */
	| 'client_invalid_state';

/** Every code an {@link SdkError} may carry. */
export type SdkErrorCode = ErrorCode | ClientErrorCode;

/**
 * The one error type the SDK throws and rejects with. Branch on `code`
 * (stable); `message` is for people.
 */
export class SdkError extends Error {
	/** Stable code: a protocol error code from the server or a {@link ClientErrorCode}. */
	readonly code: SdkErrorCode;
	/** With `room_elsewhere`: the server (cluster node) that hosts the room. */
	readonly redirectUrl: string | undefined;

	constructor(code: SdkErrorCode, message: string, options?: { cause?: unknown; redirectUrl?: string }) {
		super(message, options);
		this.name = 'SdkError';
		this.code = code;
		this.redirectUrl = options?.redirectUrl;
	}

	/** Wraps anything thrown into an SdkError, keeping SdkErrors as they are. */
	static from(error: unknown, fallback: SdkErrorCode = 'internal_error'): SdkError {
		if (error instanceof SdkError) return error;
		const message = error instanceof Error ? error.message : String(error);
		return new SdkError(fallback, message, { cause: error });
	}
}
