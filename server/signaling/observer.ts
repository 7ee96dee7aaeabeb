import { EventEmitter } from 'node:events';
import type { ErrorCode, RequestMethod, Role } from './protocol.js';

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
};

/**
 * Signaling as seen by monitors (metrics): the server and its sessions emit,
 * anyone may listen, nobody's behaviour depends on it.
 */
export class SignalingObserver extends EventEmitter<SignalingObserverEvents> {}
