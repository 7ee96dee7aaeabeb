import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

/**
 * Node-to-node calls are signed: HMAC-SHA256 with the cluster secret over
 * time, a one-time nonce, method, path and body. A call is accepted once:
 * its nonce is remembered for as long as its time is acceptable.
 */
export const NODE_HEADER = 'x-sfu-node';
export const TIME_HEADER = 'x-sfu-time';
export const NONCE_HEADER = 'x-sfu-nonce';
export const SIGNATURE_HEADER = 'x-sfu-signature';

/** How far a signed call's clock may be from ours (older calls are refused). */
const MAX_SKEW_MS = 30_000;
/** Nonces remembered at most: beyond it the oldest go (their calls are stale by then or the cap is an attack). */
const MAX_NONCES = 100_000;

function mac(secret: string, time: string, nonce: string, method: string, path: string, body: string): string {
	return createHmac('sha256', secret).update(`${time}\n${nonce}\n${method.toUpperCase()}\n${path}\n${body}`).digest('hex');
}

export function signRequest(secret: string, nodeId: string, method: string, path: string, body: string): Record<string, string> {
	const time = String(Date.now());
	const nonce = randomBytes(16).toString('hex');
	return { [NODE_HEADER]: nodeId, [TIME_HEADER]: time, [NONCE_HEADER]: nonce, [SIGNATURE_HEADER]: mac(secret, time, nonce, method, path, body) };
}

/**
 * Checks signed node-to-node calls and refuses a replay: each signature is
 * good once, within the allowed clock skew. One per receiving node.
 */
export class NodeCallVerifier {
	readonly #secret: string;
	/** Nonces seen, with the time of their call (insertion order ≈ time order). */
	readonly #seen = new Map<string, number>();

	constructor(secret: string) {
		this.#secret = secret;
	}

	/** True when the call was signed with our secret within the allowed skew and never seen before. */
	verify(headers: Record<string, string | string[] | undefined>, method: string, path: string, body: string): boolean {
		const time = headers[TIME_HEADER];
		const nonce = headers[NONCE_HEADER];
		const signature = headers[SIGNATURE_HEADER];
		if (typeof time !== 'string' || typeof nonce !== 'string' || typeof signature !== 'string' || !/^\d{1,15}$/.test(time) || !/^[0-9a-f]{32}$/.test(nonce)) return false;
		const now = Date.now();
		if (Math.abs(now - Number(time)) > MAX_SKEW_MS) return false;
		const expected = Buffer.from(mac(this.#secret, time, nonce, method, path, body), 'hex');
		const given = Buffer.from(signature, 'hex');
		if (given.length !== expected.length || !timingSafeEqual(given, expected)) return false;
		this.#forgetStale(now);
		if (this.#seen.has(nonce)) return false;
		this.#seen.set(nonce, Number(time));
		return true;
	}

	#forgetStale(now: number): void {
		for (const [nonce, time] of this.#seen) {
			if (now - time <= MAX_SKEW_MS && this.#seen.size < MAX_NONCES) break;
			this.#seen.delete(nonce);
		}
	}
}
