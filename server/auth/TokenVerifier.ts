import { createPublicKey, createSecretKey, type KeyObject } from 'node:crypto';
import { decodeJwt, errors as joseErrors, jwtVerify, SignJWT, type JWTPayload } from 'jose';
import { AuthError } from './AuthError.js';
import { ApiClaimsSchema, JoinClaimsSchema, type ApiClaims, type JoinClaims } from './claims.js';

export interface TokenVerifierOptions {
	/** Shared secret for HS256 tokens (`JWT_SECRET`). */
	secret?: string;
	/** PEM public key for RS256 / EdDSA tokens (`JWT_PUBLIC_KEY`). */
	publicKey?: string;
	/** Tolerated clock skew between portal and server, in seconds. Default 30. */
	clockToleranceSeconds?: number;
	/** Required `aud` claim (`JWT_AUDIENCE`): a token minted for another service is refused. Default: not checked. */
	audience?: string;
	/** Required `iss` claim (`JWT_ISSUER`): only the named portal's tokens are accepted. Default: not checked. */
	issuer?: string;
	/**
	 * Longest lifetime accepted, seconds (`JWT_MAX_LIFETIME_SECONDS`): `exp - iat`
	 * (or `exp - now` without `iat`) beyond it is refused, so a leaked token
	 * cannot be a standing pass. 0: no limit. Default 0.
	 */
	maxLifetimeSeconds?: number;
	/**
	 * Keys of admin tokens (`ADMIN_JWT_SECRET` / `ADMIN_JWT_PUBLIC_KEY`). When
	 * given, a token claiming `role: "admin"` must verify with one of them, and
	 * the join-token keys no longer make admins: a portal's key (or a leak of it)
	 * cannot mint admin access. Default: admin tokens verify with the join keys.
	 */
	admin?: { secret?: string; publicKey?: string };
}

interface VerificationKey {
	key: KeyObject;
	algorithms: string[];
}

function keysOf(secret: string | undefined, publicKey: string | undefined): VerificationKey[] {
	const keys: VerificationKey[] = [];
	if (secret) keys.push({ key: createSecretKey(Buffer.from(secret, 'utf8')), algorithms: ['HS256'] });
	if (publicKey) {
		const key = createPublicKey(publicKey);
		const algorithms = key.asymmetricKeyType === 'rsa' ? ['RS256'] : key.asymmetricKeyType === 'ed25519' ? ['EdDSA'] : [];
		if (algorithms.length === 0) throw new Error(`unsupported public key type ${key.asymmetricKeyType ?? 'unknown'}; use RSA or Ed25519`);
		keys.push({ key, algorithms });
	}
	return keys;
}

/** Verifies portal-minted join tokens with jose. */
export class TokenVerifier {
	readonly #keys: VerificationKey[];
	readonly #adminKeys: VerificationKey[];
	readonly #secret: KeyObject | null;
	readonly #clockTolerance: number;
	readonly #audience: string | undefined;
	readonly #issuer: string | undefined;
	readonly #maxLifetime: number;

	constructor(options: TokenVerifierOptions) {
		this.#keys = keysOf(options.secret, options.publicKey);
		this.#secret = options.secret ? this.#keys[0]!.key : null;
		if (this.#keys.length === 0) throw new Error('a JWT secret or public key is required');
		this.#adminKeys = keysOf(options.admin?.secret, options.admin?.publicKey);
		this.#clockTolerance = options.clockToleranceSeconds ?? 30;
		this.#audience = options.audience;
		this.#issuer = options.issuer;
		this.#maxLifetime = options.maxLifetimeSeconds ?? 0;
	}

	/** True when admin tokens have keys of their own. */
	get separateAdminKeys(): boolean {
		return this.#adminKeys.length > 0;
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
		const payload = await this.#verifySignature(token, this.#keys);
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
		// Which keys apply depends on the role the token claims; the signature then decides whether it holds.
		const keys = this.#adminKeys.length > 0 && claimedRole(token) === 'admin' ? this.#adminKeys : this.#keys;
		const payload = await this.#verifySignature(token, keys);
		const claims = ApiClaimsSchema.safeParse(payload);
		if (!claims.success) throw new AuthError('auth_invalid_claims', 'the token claims are invalid');
		if (claims.data.role === 'admin' && keys !== this.#adminKeys && this.#adminKeys.length > 0) {
			throw new AuthError('auth_invalid_token', 'admin tokens must be signed with the admin key');
		}
		return claims.data;
	}

	async #verifySignature(token: string | undefined, keys: readonly VerificationKey[]): Promise<unknown> {
		if (!token) throw new AuthError('auth_missing_token', 'a token is required');
		let payload: JWTPayload | undefined;
		let lastError: unknown;
		for (const { key, algorithms } of keys) {
			try {
				({ payload } = await jwtVerify(token, key, {
					algorithms,
					clockTolerance: this.#clockTolerance,
					requiredClaims: ['exp', 'sub'],
					...(this.#audience !== undefined ? { audience: this.#audience } : {}),
					...(this.#issuer !== undefined ? { issuer: this.#issuer } : {}),
				}));
				break;
			} catch (error) {
				lastError = error;
				// Expiry is decided after the signature verified: no need to try other keys.
				if (error instanceof joseErrors.JWTExpired) break;
			}
		}
		if (payload === undefined) throw mapJoseError(lastError);
		this.#checkLifetime(payload);
		return payload;
	}

	/** A token may not be valid for longer than the configured maximum, counted from its issue (or from now). */
	#checkLifetime(payload: JWTPayload): void {
		if (this.#maxLifetime <= 0 || typeof payload.exp !== 'number') return;
		const now = Math.floor(Date.now() / 1000);
		const issuedAt = typeof payload.iat === 'number' ? payload.iat : now;
		if (payload.exp - issuedAt > this.#maxLifetime || payload.exp - now > this.#maxLifetime + this.#clockTolerance) {
			throw new AuthError('auth_invalid_claims', `the token is valid for longer than this server accepts (${this.#maxLifetime} s)`);
		}
	}

	/** Mints an HS256 token (dev tokens with DEMO=1, and tests). */
	async mint(claims: Omit<JoinClaims, 'exp' | 'iat'> | Omit<ApiClaims, 'exp'>, ttlSeconds: number): Promise<string> {
		if (!this.#secret) throw new Error('minting needs JWT_SECRET');
		const { sub, ...rest } = claims;
		const jwt = new SignJWT({ ...rest })
			.setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
			.setSubject(sub)
			.setIssuedAt()
			.setExpirationTime(Math.floor(Date.now() / 1000) + ttlSeconds);
		// Dev tokens must pass this server's own checks.
		if (this.#audience !== undefined) jwt.setAudience(this.#audience);
		if (this.#issuer !== undefined) jwt.setIssuer(this.#issuer);
		return jwt.sign(this.#secret);
	}
}

/** The `role` a token claims, read before its signature is checked (only to pick keys); null if unreadable. */
function claimedRole(token: string | undefined): unknown {
	if (!token) return null;
	try {
		return decodeJwt(token)['role'] ?? null;
	} catch {
		return null;
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
