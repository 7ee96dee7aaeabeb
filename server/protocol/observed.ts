/**
 * Signaling as monitors see it (metrics, the audit trail): how each request
 * was answered and which handshakes were refused, in protocol words only.
 * The signaling server emits these; observers below it in the layers import
 * the types from here rather than from signaling.
 */
import type { NotificationName } from './notifications.js';
import type { RequestMethod } from './requests.js';
import type { ErrorCode, Role } from './vocabulary.js';

/** How one request was answered. */
export interface RequestOutcome {
	/** The request's method; null for an unknown one. */
	method: RequestMethod | null;
	/** From the request's arrival to its acknowledgement (rate limiting and queueing included). */
	seconds: number;
	/** The error code answered, or null on success. */
	code: ErrorCode | null;
	/** Who asked: the token's opaque `sub`, role and room, and the peer once joined (never a name). */
	actor?: { sub: string; role: Role; roomId: string; peerId: string | null };
	/** The validated payload, for monitors that keep a record (the audit picks fields; never log it whole). */
	params?: unknown;
}

/** What is known of a refused handshake; nothing in it is verified. */
export interface RefusalDetails {
	/** The room the client asked for. */
	room?: string;
	/** The client's address as Socket.IO saw it. */
	address?: string;
}

export type SignalingObserverEvents = {
	/** A request was acknowledged. */
	request: [outcome: RequestOutcome];
	/** A connection was refused during the handshake (auth error code). */
	refused: [code: string, details?: RefusalDetails];
	/** A connection was accepted (its token verified). */
	connection: [];
	/** A connection closed, with Socket.IO's reason ("ping timeout": a link went silent). */
	disconnect: [reason: string];
	/** A notification was sent to one peer. */
	notification: [name: NotificationName];
};

/** What an observer of signaling subscribes to (the signaling server's `observer`). */
export interface SignalingEvents {
	on<E extends keyof SignalingObserverEvents>(event: E, listener: (...args: SignalingObserverEvents[E]) => void): unknown;
	off<E extends keyof SignalingObserverEvents>(event: E, listener: (...args: SignalingObserverEvents[E]) => void): unknown;
}
