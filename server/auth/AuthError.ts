import type { ErrorCode } from '../signaling/protocol.js';

export type AuthErrorCode = Extract<ErrorCode, `auth_${string}`>;

/** A join token that cannot be accepted; `code` is a stable protocol code. */
export class AuthError extends Error {
	readonly code: AuthErrorCode;

	constructor(code: AuthErrorCode, message: string) {
		super(message);
		this.name = 'AuthError';
		this.code = code;
	}
}
