import { createPublicKey, createSecretKey, type KeyObject } from 'node:crypto';
import { errors as joseErrors, jwtVerify, SignJWT } from 'jose';
import { AuthError } from './AuthError.js';
import { ApiClaimsSchema, JoinClaimsSchema, type ApiClaims, type JoinClaims } from './claims.js';

export interface TokenVerifierOptions {
	/** Shared secret for HS256 tokens (`JWT_SECRET`). */
	secret?: string;
	/** PEM public key for RS256 / EdDSA tokens (`JWT_PUBLIC_KEY`). */
	publicKey?: string;
	/** Tolerated clock skew between portal and server, in seconds. Default 30. */
	clockToleranceSeconds?: number;
}

/** Verifies portal-minted join tokens with jose. */
export class TokenVerifier {
	readonly #keys: { key: KeyObject; algorithms: string[] }[];
	readonly #secret: KeyObject | null;
	readonly #clockTolerance: number;

	constructor(options: TokenVerifierOptions) {
		this.#keys = [];
		this.#secret = options.secret ? createSecretKey(Buffer.from(options.secret, 'utf8')) : null;
		if (this.#secret) this.#keys.push({ key: this.#secret, algorithms: ['HS256'] });
		if (options.publicKey) {
			const key = createPublicKey(options.publicKey);
			const algorithms = key.asymmetricKeyType === 'rsa' ? ['RS256'] : key.asymmetricKeyType === 'ed25519' ? ['EdDSA'] : [];
			if (algorithms.length === 0) throw new Error(`unsupported public key type ${key.asymmetricKeyType ?? 'unknown'}; use RSA or Ed25519`);
			this.#keys.push({ key, algorithms });
		}
		if (this.#keys.length === 0) throw new Error('a JWT secret or public key is required');
		this.#clockTolerance = options.clockToleranceSeconds ?? 30;
	}

	/** True when tokens can be minted here (HS256 secret known): dev tokens, tests. */
	get canMint(): boolean {
		return this.#secret !== null;
	}

	/**
	 * Verifies signature, expiry and claims. With `expectedRoom`, a token for
	 * another room is refused.
	 */
	async verify(token: string | undefined, expectedRoom?: string): Promise<JoinClaims> {
		const payload = await this.#verifySignature(token);
		const claims = JoinClaimsSchema.safeParse(payload);
		if (!claims.success) {
			const issue = claims.error.issues[0]!;
			throw new AuthError('auth_invalid_claims', `token claim "${issue.path.join('.')}" is invalid: ${issue.message}`);
		}
		if (expectedRoom !== undefined && claims.data.room !== expectedRoom) {
			throw new AuthError('auth_wrong_room', 'the token is for another room');
		}
		return claims.data;
	}

	/** Verifies a REST bearer token (join token or admin token). */
	async verifyApi(token: string | undefined): Promise<ApiClaims> {
		const payload = await this.#verifySignature(token);
		const claims = ApiClaimsSchema.safeParse(payload);
		if (!claims.success) throw new AuthError('auth_invalid_claims', 'the token claims are invalid');
		return claims.data;
	}

	async #verifySignature(token: string | undefined): Promise<unknown> {
		if (!token) throw new AuthError('auth_missing_token', 'a token is required');
		let payload: unknown;
		let lastError: unknown;
		for (const { key, algorithms } of this.#keys) {
			try {
				({ payload } = await jwtVerify(token, key, {
					algorithms,
					clockTolerance: this.#clockTolerance,
					requiredClaims: ['exp', 'sub'],
				}));
				break;
			} catch (error) {
				lastError = error;
				// Expiry is decided after the signature verified: no need to try other keys.
				if (error instanceof joseErrors.JWTExpired) break;
			}
		}
		if (payload === undefined) throw mapJoseError(lastError);
		return payload;
	}

	/** Mints an HS256 token (dev tokens with DEMO=1, and tests). */
	async mint(claims: Omit<JoinClaims, 'exp' | 'iat'> | Omit<ApiClaims, 'exp'>, ttlSeconds: number): Promise<string> {
		if (!this.#secret) throw new Error('minting needs JWT_SECRET');
		const { sub, ...rest } = claims;
		return new SignJWT({ ...rest })
			.setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
			.setSubject(sub)
			.setIssuedAt()
			.setExpirationTime(Math.floor(Date.now() / 1000) + ttlSeconds)
			.sign(this.#secret);
	}
}

function mapJoseError(error: unknown): AuthError {
	if (error instanceof joseErrors.JWTExpired) return new AuthError('auth_token_expired', 'the token has expired');
	if (error instanceof joseErrors.JWTClaimValidationFailed) {
		return new AuthError('auth_invalid_claims', `token claim "${error.claim}" is invalid`);
	}
	if (error instanceof joseErrors.JOSEAlgNotAllowed) return new AuthError('auth_invalid_token', 'the token uses an algorithm this server does not accept');
	if (error instanceof joseErrors.JWSSignatureVerificationFailed) return new AuthError('auth_invalid_token', 'the token signature is invalid');
	return new AuthError('auth_invalid_token', 'the token is malformed');
}
