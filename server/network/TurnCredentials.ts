import { createHmac, randomBytes } from 'node:crypto';

/** One entry of RTCConfiguration.iceServers, as handed to clients with each transport. */
export interface IceServer {
	urls: string | string[];
	username?: string;
	credential?: string;
}

export interface TurnCredentialsOptions {
	/** `turn:`, `turns:` (and `stun:`) URLs handed to clients. */
	urls: string[];
	/** Shared secret of coturn's `use-auth-secret` / `static-auth-secret`. Required when a `turn:`/`turns:` URL is given. */
	secret?: string;
	/** Lifetime of each minted credential, seconds. Default 3600. */
	ttlSeconds?: number;
	/** Clock, ms since the epoch (tests). Default Date.now. */
	now?: () => number;
}

/** True for a `turn:` or `turns:` URL (the ones that need credentials). */
export function isTurnUrl(url: string): boolean {
	return /^turns?:/i.test(url);
}

/**
 * The credential of the TURN REST API (draft-uberti-behave-turn-rest):
 * base64(HMAC-SHA1(secret, username)), as coturn computes it with
 * `use-auth-secret`.
 */
export function turnRestCredential(secret: string, username: string): string {
	return createHmac('sha1', secret).update(username).digest('base64');
}

/**
 * Mints short-lived TURN credentials (TURN REST shared-secret scheme) for
 * each transport a client creates. The username is `<expiry unix>:<opaque
 * id>`: no user id, no name, nothing a TURN log could link to a patient. A
 * TURN server checks the expiry when an allocation is made, not afterwards,
 * so a consult that outlives its credential keeps its relay; a transport
 * created later gets fresh ones.
 */
export class TurnCredentials {
	readonly #turnUrls: string[];
	readonly #stunUrls: string[];
	readonly #secret: string | undefined;
	readonly #ttlSeconds: number;
	readonly #now: () => number;

	constructor(options: TurnCredentialsOptions) {
		this.#turnUrls = options.urls.filter(isTurnUrl);
		this.#stunUrls = options.urls.filter((url) => !isTurnUrl(url));
		this.#secret = options.secret;
		this.#ttlSeconds = options.ttlSeconds ?? 3600;
		this.#now = options.now ?? Date.now;
		if (this.#turnUrls.length > 0 && !this.#secret) throw new Error('TURN URLs need the shared secret');
	}

	/** True when clients get at least one TURN server (a relay to fall back on). */
	get hasTurn(): boolean {
		return this.#turnUrls.length > 0;
	}

	/** Fresh ICE servers for one transport: TURN URLs with a new credential, STUN URLs as they are. */
	iceServers(): IceServer[] {
		const servers: IceServer[] = [];
		if (this.#turnUrls.length > 0) {
			const expiry = Math.floor(this.#now() / 1000) + this.#ttlSeconds;
			const username = `${expiry}:${randomBytes(9).toString('base64url')}`;
			servers.push({ urls: [...this.#turnUrls], username, credential: turnRestCredential(this.#secret!, username) });
		}
		if (this.#stunUrls.length > 0) servers.push({ urls: [...this.#stunUrls] });
		return servers;
	}
}
