/**
 * The one place the SDK reaches into the server's protocol module. Type-only
 * imports: they are erased at build time, so zod (which the server uses to
 * validate) never lands in the browser bundle.
 */
import type * as Protocol from '../../server/signaling/protocol.js';

export type {
	ConsumeResponse,
	ErrorCode,
	JoinResponse,
	NotificationMap,
	PeerInfo,
	ProducerInfo,
	ProtocolError,
	RequestMethod,
	RequestOf,
	ResponseOf,
	Result,
	Role,
	RoomInfo,
	Source,
	TransportParams,
	ClientToServerEvents,
	ServerToClientEvents,
	CloseReason,
} from '../../server/signaling/protocol.js';

/**
 * Protocol version this SDK speaks. Typed against the server's constant so a
 * version bump there fails the SDK's type check until the SDK follows.
 */
export const PROTOCOL_VERSION: typeof Protocol.PROTOCOL_VERSION = 1;

/** A successful `join` answer (not waiting for admission). */
export type JoinedResponse = Extract<Protocol.JoinResponse, { waiting: false }>;

/** A peer in the waiting room, as hosts see it. */
export type WaitingPeer = Protocol.NotificationMap['waitingRoom']['peers'][number];
