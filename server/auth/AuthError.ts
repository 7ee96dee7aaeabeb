import { SfuError, type ErrorCode } from '../protocol/index.js';

export type AuthErrorCode = Extract<ErrorCode, `auth_${string}`>;

/** A join token that cannot be accepted; `code` is one of the auth_* codes. */
export class AuthError extends SfuError {
	declare readonly code: AuthErrorCode;

	constructor(code: AuthErrorCode, message: string) {
		super(code, message);
		this.name = 'AuthError';
	}
}
