import { createHmac, timingSafeEqual } from 'node:crypto';

/** Node-to-node calls are signed: HMAC-SHA256 over time, method, path and body. */
export const NODE_HEADER = 'x-sfu-node';
export const TIME_HEADER = 'x-sfu-time';
export const SIGNATURE_HEADER = 'x-sfu-signature';

/** How far a signed call's clock may be from ours (replays older than this are refused). */
const MAX_SKEW_MS = 30_000;

function mac(secret: string, time: string, method: string, path: string, body: string): string {
	return createHmac('sha256', secret).update(`${time}\n${method.toUpperCase()}\n${path}\n${body}`).digest('hex');
}

export function signRequest(secret: string, nodeId: string, method: string, path: string, body: string): Record<string, string> {
	const time = String(Date.now());
	return { [NODE_HEADER]: nodeId, [TIME_HEADER]: time, [SIGNATURE_HEADER]: mac(secret, time, method, path, body) };
}

/** True when the call was signed with our secret within the allowed skew. */
export function verifyRequest(secret: string, headers: Record<string, string | string[] | undefined>, method: string, path: string, body: string): boolean {
	const time = headers[TIME_HEADER];
	const signature = headers[SIGNATURE_HEADER];
	if (typeof time !== 'string' || typeof signature !== 'string' || !/^\d+$/.test(time)) return false;
	if (Math.abs(Date.now() - Number(time)) > MAX_SKEW_MS) return false;
	const expected = Buffer.from(mac(secret, time, method, path, body), 'hex');
	const given = Buffer.from(signature, 'hex');
	return given.length === expected.length && timingSafeEqual(given, expected);
}
