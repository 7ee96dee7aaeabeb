import { EventEmitter } from 'node:events';
import type { ErrorCode, RequestMethod } from './protocol.js';

/** How one request was answered. */
export interface RequestOutcome {
	/** The request's method; null for an unknown one. */
	method: RequestMethod | null;
	/** From the request's arrival to its acknowledgement (rate limiting and queueing included). */
	seconds: number;
	/** The error code answered, or null on success. */
	code: ErrorCode | null;
}

export type SignalingObserverEvents = {
	/** A request was acknowledged. */
	request: [outcome: RequestOutcome];
	/** A connection was refused during the handshake (auth error code). */
	refused: [code: string];
};

/**
 * Signaling as seen by monitors (metrics): the server and its sessions emit,
 * anyone may listen, nobody's behaviour depends on it.
 */
export class SignalingObserver extends EventEmitter<SignalingObserverEvents> {}
