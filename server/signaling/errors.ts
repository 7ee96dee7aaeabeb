import { types as mediasoupTypes } from 'mediasoup';
import { SfuError, type ErrorCode, type ProtocolError } from '../protocol/index.js';
import type { Logger } from '../logger/index.js';

export function protocolError(code: ErrorCode, message: string): { ok: false; error: ProtocolError } {
	return { ok: false, error: { code, message } };
}

/**
 * Maps anything a handler threw to a stable code. Expected failures keep
 * their message; unexpected ones are logged and answered generically, so no
 * internals leak to clients.
 */
export function toProtocolError(error: unknown, logger: Logger, method: string): ProtocolError {
	if (error instanceof SfuError) return { code: error.code, message: error.message, ...(error.redirectUrl ? { redirectUrl: error.redirectUrl } : {}) };
	// mediasoup validates parameters with TypeError and refuses impossible
	// requests with UnsupportedError: both are the client's input at fault.
	if (error instanceof TypeError || error instanceof mediasoupTypes.UnsupportedError) {
		return { code: 'media_error', message: `mediasoup refused the request: ${error.message}` };
	}
	if (error instanceof mediasoupTypes.InvalidStateError) {
		return { code: 'invalid_state', message: 'the media object is closed' };
	}
	logger.error({ err: error, method }, 'request failed unexpectedly');
	return { code: 'internal_error', message: 'internal server error' };
}
