import { createHash, createHmac } from 'node:crypto';

/**
 * An opaque, stable reference for a room id, used wherever a room must be
 * told apart in logs or metrics: portals choose room ids, and one may carry
 * meaning (a ward, a case number) that must not leave the consult.
 *
 * `r_` + 16 hex digits of SHA-256 (or of HMAC-SHA256 with `key`, when
 * LOG_ID_KEY is set: then a reference cannot be confirmed by guessing room
 * names). The same id and key give the same reference on every node, so an
 * operator finds a room's lines with `npm run room-ref -- <roomId>`.
 */
export function roomRef(roomId: string, key?: string): string {
	const digest = key ? createHmac('sha256', key).update(roomId).digest('hex') : createHash('sha256').update(roomId).digest('hex');
	return `r_${digest.slice(0, 16)}`;
}
