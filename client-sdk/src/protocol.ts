/**
 * The one place the SDK reaches into the server's protocol module. Type-only
 * imports: they are erased at build time, so zod (which the server uses to
 * validate) never lands in the browser bundle. Internal modules import from
 * here; the public API uses `types.ts`, whose definitions are checked below
 * to be exactly the server's.
 */
import type * as Protocol from '../../server/protocol/index.js';
import * as Public from './types.js';

export type {
	ConsumeResponse,
	JoinResponse,
	NotificationMap,
	PeerInfo,
	ProtocolError,
	RequestMethod,
	RequestOf,
	ResponseOf,
	Result,
	RoomInfo,
	TransportParams,
	ClientToServerEvents,
	ServerToClientEvents,
} from '../../server/protocol/index.js';
export type { Role, Source, ErrorCode, ProducerInfo, WaitingPeer, CloseReason, KickReason, RoomClosedReason, ConsumerType, RecordingState, RoomType, IngestSourceInfo, IngestEndpointInfo } from './types.js';

/**
 * Protocol version this SDK speaks. Typed against the server's constant so a
 * version bump there fails the SDK's type check until the SDK follows.
 */
export const PROTOCOL_VERSION: typeof Protocol.PROTOCOL_VERSION = Public.PROTOCOL_VERSION;

/** A successful `join` answer (not waiting for admission). */
export type JoinedResponse = Extract<Protocol.JoinResponse, { waiting: false }>;

// --- Compile-time checks: the public copies equal the server's definitions. ------

type Equal<A, B> = (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false;
type Assert<T extends true> = T;
/** Every code the server can send is one the SDK knows (the SDK may already know newer ones). */
type Covers<Known, Sent> = [Sent] extends [Known] ? true : false;

export type ProtocolTypesMatch = [
	Assert<Equal<Public.Role, Protocol.Role>>,
	Assert<Equal<Public.Source, Protocol.Source>>,
	Assert<Covers<Public.ErrorCode, Protocol.ErrorCode>>,
	Assert<Equal<Public.ProducerInfo, Protocol.ProducerInfo>>,
	Assert<Equal<Public.WaitingPeer, Protocol.NotificationMap['waitingRoom']['peers'][number]>>,
	Assert<Equal<Public.CloseReason, Protocol.CloseReason>>,
	Assert<Equal<Public.KickReason, Protocol.NotificationMap['kicked']['reason']>>,
	Assert<Equal<Public.RoomClosedReason, Protocol.NotificationMap['roomClosed']['reason']>>,
	Assert<Equal<Public.ConsumerType, Protocol.ConsumeResponse['type']>>,
	Assert<Equal<Public.RecordingState, Protocol.NotificationMap['recordingState']>>,
	Assert<Equal<Public.RoomType, Protocol.RoomInfo['type']>>,
	Assert<Equal<Public.IngestState, Protocol.IngestState>>,
	Assert<Equal<Public.IngestFailureCode, Protocol.IngestFailureCode>>,
	Assert<Equal<Public.IngestSourceInfo, Protocol.NotificationMap['ingestState']>>,
	Assert<Equal<Public.IngestEndpointInfo, Protocol.IngestEndpointInfo>>,
];
