/**
 * Signaling protocol v1: the one definition of every message between the
 * server and the client SDK. The server validates every request with these
 * schemas; the SDK imports the types (and may validate notifications).
 *
 * Transport: Socket.IO. The client connects with `auth: { token, room? }`;
 * each request is an event named after its method, sent with an
 * acknowledgement callback that receives a {@link Result}. Server-initiated
 * messages are events named after the notification, without acknowledgement.
 * See docs/protocol.md for the prose version.
 */
import { z } from 'zod';

/** Version spoken by this server; clients send theirs in `join`. */
export const PROTOCOL_VERSION = 1;

/** Roles carried by join tokens (claim `role`). */
export const ROLES = ['host', 'clinician', 'patient', 'observer', 'device'] as const;
export type Role = (typeof ROLES)[number];

/** What a producer carries; drives permissions, priorities and layout. */
export const SOURCES = ['camera', 'microphone', 'screen', 'screen-audio', 'device'] as const;
export type Source = (typeof SOURCES)[number];

/**
 * Stable error codes. Programs branch on these; messages are for people and
 * may change.
 */
export const ERROR_CODES = [
	// Connection and auth (sent as connect_error data, or on join).
	'auth_missing_token',
	'auth_invalid_token',
	'auth_token_expired',
	'auth_wrong_room',
	'auth_invalid_claims',
	'unsupported_protocol_version',
	// Request shape.
	'invalid_payload',
	'unknown_method',
	'payload_too_large',
	'rate_limited',
	// State.
	'not_joined',
	'already_joined',
	'waiting_for_admission',
	'not_found',
	'invalid_state',
	'cannot_consume',
	'room_closed',
	'room_full',
	/** The room lives on another node of the cluster: reconnect to `redirectUrl`. */
	'room_elsewhere',
	'limit_exceeded',
	// Permission.
	'forbidden',
	// Media layer or server.
	'media_error',
	'unavailable',
	'internal_error',
] as const;
export type ErrorCode = (typeof ERROR_CODES)[number];

export interface ProtocolError {
	code: ErrorCode;
	message: string;
	/** With `room_elsewhere`: the node to reconnect to. */
	redirectUrl?: string;
}

/** Every acknowledgement: success with data, or a stable error. */
export type Result<T> = { ok: true; data: T } | { ok: false; error: ProtocolError };

// --- Shared pieces --------------------------------------------------------------

/** mediasoup object ids (UUIDs) and peer ids. */
export const IdSchema = z.string().min(1).max(64).regex(/^[A-Za-z0-9-]+$/, 'must be an id');

/** Room ids chosen by portals: URL-safe, bounded. */
export const RoomIdSchema = z
	.string()
	.min(1)
	.max(128)
	.regex(/^[A-Za-z0-9._~-]+$/, 'must contain only letters, digits and . _ ~ -');

const ShortString = z.string().max(256);
const Int = z.number().int();
const CodecParameters = z.record(z.string().max(64), z.union([z.string().max(256), z.number()]));
const RtcpFeedback = z.object({ type: z.string().max(32), parameter: z.string().max(32).optional() });

const RtpCodecCapability = z.looseObject({
	kind: z.enum(['audio', 'video']),
	mimeType: z.string().max(64),
	preferredPayloadType: Int.min(0).max(127).optional(),
	clockRate: Int.positive(),
	channels: Int.min(1).max(8).optional(),
	parameters: CodecParameters.optional(),
	rtcpFeedback: z.array(RtcpFeedback).max(16).optional(),
});

const HeaderExtensionCapability = z.looseObject({
	kind: z.enum(['audio', 'video']),
	uri: ShortString,
	preferredId: Int.min(1).max(255),
	preferredEncrypt: z.boolean().optional(),
	direction: z.enum(['sendrecv', 'sendonly', 'recvonly', 'inactive']).optional(),
});

/** A device's receive capabilities (mediasoup-client `device.rtpCapabilities`). */
export const RtpCapabilitiesSchema = z.looseObject({
	codecs: z.array(RtpCodecCapability).max(64).optional(),
	headerExtensions: z.array(HeaderExtensionCapability).max(64).optional(),
});

const RtpCodecParameters = z.looseObject({
	mimeType: z.string().max(64),
	payloadType: Int.min(0).max(127),
	clockRate: Int.positive(),
	channels: Int.min(1).max(8).optional(),
	parameters: CodecParameters.optional(),
	rtcpFeedback: z.array(RtcpFeedback).max(16).optional(),
});

const RtpEncodingParameters = z.looseObject({
	ssrc: Int.nonnegative().optional(),
	rid: z.string().max(32).optional(),
	codecPayloadType: Int.min(0).max(127).optional(),
	rtx: z.object({ ssrc: Int.nonnegative() }).optional(),
	dtx: z.boolean().optional(),
	scalabilityMode: z.string().max(16).optional(),
	scaleResolutionDownBy: z.number().positive().max(64).optional(),
	maxBitrate: Int.positive().optional(),
	maxFramerate: z.number().positive().max(240).optional(),
	active: z.boolean().optional(),
});

/** What a sender will send (mediasoup-client `producer.rtpParameters`). */
export const RtpParametersSchema = z.looseObject({
	mid: z.string().max(32).optional(),
	codecs: z.array(RtpCodecParameters).min(1).max(16),
	headerExtensions: z
		.array(z.looseObject({ uri: ShortString, id: Int.min(1).max(255), encrypt: z.boolean().optional(), parameters: CodecParameters.optional() }))
		.max(32)
		.optional(),
	encodings: z.array(RtpEncodingParameters).min(1).max(8).optional(),
	rtcp: z.looseObject({ cname: z.string().max(256).optional(), reducedSize: z.boolean().optional(), mux: z.boolean().optional() }).optional(),
});

export const DtlsParametersSchema = z.object({
	role: z.enum(['auto', 'client', 'server']).optional(),
	fingerprints: z
		.array(z.object({ algorithm: z.enum(['sha-1', 'sha-224', 'sha-256', 'sha-384', 'sha-512']), value: z.string().min(1).max(256) }))
		.min(1)
		.max(8),
});

// --- Requests (client → server, acknowledged) ---------------------------------

export const RequestSchemas = {
	/** Enter the room named by the token. May answer `waiting: true`. */
	join: z.strictObject({
		protocolVersion: Int,
		/** The device's receive capabilities; required to consume. */
		rtpCapabilities: RtpCapabilitiesSchema.optional(),
		/**
		 * After a socket reconnect: the transports the client still holds. They
		 * are kept (the client restarts ICE on them); the peer's others close.
		 */
		resume: z.strictObject({ transportIds: z.array(IdSchema).max(4) }).optional(),
	}),
	/** The device's receive capabilities, once loaded from `routerRtpCapabilities`. */
	setRtpCapabilities: z.strictObject({ rtpCapabilities: RtpCapabilitiesSchema }),
	createTransport: z.strictObject({
		direction: z.enum(['send', 'recv']),
	}),
	connectTransport: z.strictObject({ transportId: IdSchema, dtlsParameters: DtlsParametersSchema }),
	restartIce: z.strictObject({ transportId: IdSchema }),
	produce: z.strictObject({
		transportId: IdSchema,
		kind: z.enum(['audio', 'video']),
		rtpParameters: RtpParametersSchema,
		source: z.enum(SOURCES),
		/** Start paused (e.g. joining muted). */
		paused: z.boolean().optional(),
	}),
	closeProducer: z.strictObject({ producerId: IdSchema }),
	pauseProducer: z.strictObject({ producerId: IdSchema }),
	resumeProducer: z.strictObject({ producerId: IdSchema }),
	/** Subscribe to a producer; the consumer starts paused until `resumeConsumer`. */
	consume: z.strictObject({ producerId: IdSchema }),
	resumeConsumer: z.strictObject({ consumerId: IdSchema }),
	pauseConsumer: z.strictObject({ consumerId: IdSchema }),
	closeConsumer: z.strictObject({ consumerId: IdSchema }),
	/** Simulcast: 0 = lowest spatial layer; temporal defaults to the highest. */
	setConsumerPreferredLayers: z.strictObject({
		consumerId: IdSchema,
		spatialLayer: Int.min(0).max(3),
		temporalLayer: Int.min(0).max(3).optional(),
	}),
	/** Bandwidth share under congestion: 1 (lowest) to 255. */
	setConsumerPriority: z.strictObject({ consumerId: IdSchema, priority: Int.min(1).max(255) }),
	/**
	 * A fresh join token for the same user and room, before the current one
	 * expires: a session whose token expires is ended (`kicked`, reason `expired`).
	 */
	refreshToken: z.strictObject({ token: z.string().min(1).max(8192) }),
	/** Leave now (no grace period). */
	leave: z.strictObject({}),
	// Host actions.
	admit: z.strictObject({ peerId: IdSchema }),
	deny: z.strictObject({ peerId: IdSchema }),
	mutePeer: z.strictObject({ peerId: IdSchema, source: z.enum(SOURCES).optional() }),
	removePeer: z.strictObject({ peerId: IdSchema }),
	endRoom: z.strictObject({}),
	// Recording (host starts and stops; everyone is notified).
	startRecording: z.strictObject({
		/** Record only participants who consented (they answer with setRecordingConsent). Default: the room's policy. */
		requireConsent: z.boolean().optional(),
	}),
	stopRecording: z.strictObject({}),
	/** A participant's consent to be recorded; withdrawing stops recording their tracks. */
	setRecordingConsent: z.strictObject({ consent: z.boolean() }),
	// Device streams.
	/**
	 * Push ingest (role device, or host/clinician for a device in their room):
	 * where a hardware encoder should send RTP. Default: video only, no SRTP.
	 */
	createIngest: z.strictObject({
		kinds: z.array(z.enum(['audio', 'video'])).min(1).max(2).optional(),
		srtp: z.boolean().optional(),
	}),
	/** Pull ingest (host): the server pulls an RTSP / SRT / HTTP(S) / HLS source into the room. */
	addIngestSource: z.strictObject({
		url: z.string().min(1).max(2048),
		/** Shown to participants as the device's name. */
		name: z.string().min(1).max(64).optional(),
	}),
	removeIngestSource: z.strictObject({ ingestId: IdSchema }),
} as const;

export type RequestMethod = keyof typeof RequestSchemas;
export type RequestOf<M extends RequestMethod> = z.input<(typeof RequestSchemas)[M]>;
export const REQUEST_METHODS = Object.keys(RequestSchemas) as RequestMethod[];

// --- Response data ----------------------------------------------------------------

export interface ProducerInfo {
	id: string;
	peerId: string;
	kind: 'audio' | 'video';
	source: Source;
	paused: boolean;
}

export interface PeerInfo {
	id: string;
	role: Role;
	/** From the token's `name` claim; shown to others, never logged. */
	displayName: string;
	producers: ProducerInfo[];
}

export interface RoomInfo {
	id: string;
	waitingRoom: boolean;
	/**
	 * 'broadcast' (grand rounds): viewers (observers) are not announced one by
	 * one; presenters get an `audience` count instead.
	 */
	type: 'consult' | 'broadcast';
}

export interface TransportParams {
	id: string;
	iceParameters: { usernameFragment: string; password: string; iceLite?: boolean };
	iceCandidates: {
		foundation: string;
		priority: number;
		/** Same as `ip`; newer mediasoup-client versions read this name. */
		address: string;
		ip: string;
		protocol: 'udp' | 'tcp';
		port: number;
		type: 'host';
		tcpType?: 'passive';
	}[];
	dtlsParameters: {
		role?: 'auto' | 'client' | 'server';
		fingerprints: { algorithm: 'sha-1' | 'sha-224' | 'sha-256' | 'sha-384' | 'sha-512'; value: string }[];
	};
	iceServers: { urls: string | string[]; username?: string; credential?: string }[];
}

export type JoinResponse =
	| { waiting: true; peerId: string; role: Role; displayName: string; room: RoomInfo }
	| {
			waiting: false;
			peerId: string;
			role: Role;
			/** This peer's own display name, from its token. */
			displayName: string;
			room: RoomInfo;
			/** mediasoup-client loads its Device with these. */
			routerRtpCapabilities: z.infer<typeof RtpCapabilitiesSchema>;
			/** Everyone else already in the room (waiting peers excluded). */
			peers: PeerInfo[];
			/** True when this join resumed a peer kept during its grace period. */
			resumed: boolean;
			/** On resume: the peer's producers the server kept. */
			producers: ProducerInfo[];
			/** On resume: the transports and consumers the server kept (others were closed). */
			kept: { transportIds: string[]; consumerIds: string[] };
	  };

export interface ConsumeResponse {
	id: string;
	producerId: string;
	peerId: string;
	kind: 'audio' | 'video';
	source: Source;
	rtpParameters: z.infer<typeof RtpParametersSchema>;
	type: 'simple' | 'simulcast' | 'svc' | 'pipe';
	producerPaused: boolean;
}

export interface ResponseMap {
	join: JoinResponse;
	setRtpCapabilities: Record<string, never>;
	createTransport: TransportParams;
	connectTransport: Record<string, never>;
	restartIce: { iceParameters: TransportParams['iceParameters'] };
	produce: { id: string };
	closeProducer: Record<string, never>;
	pauseProducer: Record<string, never>;
	resumeProducer: Record<string, never>;
	consume: ConsumeResponse;
	resumeConsumer: Record<string, never>;
	pauseConsumer: Record<string, never>;
	closeConsumer: Record<string, never>;
	setConsumerPreferredLayers: Record<string, never>;
	setConsumerPriority: Record<string, never>;
	refreshToken: { expiresAt: number };
	leave: Record<string, never>;
	admit: Record<string, never>;
	deny: Record<string, never>;
	mutePeer: { producerIds: string[] };
	removePeer: Record<string, never>;
	endRoom: Record<string, never>;
	startRecording: { recordingId: string };
	stopRecording: { recordingId: string };
	setRecordingConsent: Record<string, never>;
	createIngest: IngestEndpointInfo;
	addIngestSource: { ingestId: string };
	removeIngestSource: Record<string, never>;
}

/** Where a device encoder sends its RTP (see README: device ingest). */
export interface IngestEndpointInfo {
	streams: {
		kind: 'audio' | 'video';
		producerId: string;
		ip: string;
		port: number;
		rtcpPort: number;
		payloadType: number;
		ssrc: number;
		codec: { mimeType: string; clockRate: number; channels?: number; parameters: Record<string, string | number> };
	}[];
	srtp?: { cryptoSuite: 'AES_CM_128_HMAC_SHA1_80'; keyBase64: string };
	/** An SDP describing the streams, for senders that take one (ffmpeg, GStreamer). */
	sdp: string;
}

/** A pulled device source's state. */
export type IngestState = 'connecting' | 'live' | 'retrying' | 'failed' | 'stopped';
export type ResponseOf<M extends RequestMethod> = ResponseMap[M];

// --- Notifications (server → client) -----------------------------------------

export type CloseReason = 'left' | 'disconnected' | 'removed' | 'room_ended' | 'room_closed' | 'expired' | 'server_shutdown';

export interface NotificationMap {
	peerJoined: { peer: PeerInfo };
	peerLeft: { peerId: string; reason: CloseReason };
	producerNew: { producer: ProducerInfo };
	producerClosed: { producerId: string; peerId: string };
	producerPaused: { producerId: string; peerId: string };
	producerResumed: { producerId: string; peerId: string };
	/** Sent to the owner when the host muted one of its producers. */
	mutedByHost: { producerId: string; source: Source };
	consumerClosed: { consumerId: string; producerId: string };
	/** The producer behind the consumer was paused / resumed. */
	consumerPaused: { consumerId: string };
	consumerResumed: { consumerId: string };
	consumerLayersChanged: { consumerId: string; spatialLayer: number | null; temporalLayer: number | null };
	activeSpeaker: { peerId: string | null };
	/** To hosts: the peers currently waiting for admission. */
	waitingRoom: { peers: { id: string; role: Role; displayName: string }[] };
	/** Broadcast rooms, to presenters: how many viewers watch (sent at most every 2 s). */
	audience: { viewers: number };
	/** To a waiting peer: you may now `join` again. */
	admitted: Record<string, never>;
	/** To a waiting peer: the host declined; the socket is closed after this. */
	denied: Record<string, never>;
	kicked: { reason: 'removed' | 'expired' };
	/**
	 * To everyone: recording started, stopped or failed. While `active`, every
	 * participant must be shown that the session is recorded.
	 */
	recordingState: {
		recordingId: string;
		active: boolean;
		/** When set, only consenting participants are recorded; others are asked. */
		consentRequired: boolean;
		/** Peer ids whose tracks are being recorded now. */
		recordedPeerIds: string[];
		/** Why it stopped, when it did not stop by request: e.g. 'disk_full', 'recorder_failed'. */
		error?: { code: string; message: string };
	};
	roomClosed: { reason: 'ended_by_host' | 'server_shutdown' | 'closed' };
	/** To everyone: a pulled device source changed state. */
	ingestState: {
		ingestId: string;
		/** The server-side participant that carries the source's producers. */
		peerId: string;
		name: string;
		state: IngestState;
		/** Why it is retrying or failed. */
		reason?: string;
		/** Retry number and when the next try happens (ms from now). */
		attempt?: number;
		retryInMs?: number;
	};
	/**
	 * To a viewer: the quality of one consumer (0..10). A device stream is
	 * never downscaled; a low score on it means this viewer's link cannot carry it.
	 */
	consumerScore: { consumerId: string; score: number; producerScore: number };
}
export type NotificationName = keyof NotificationMap;

// --- Socket.IO typing -----------------------------------------------------------

/** `auth` of the Socket.IO handshake. */
export const HandshakeAuthSchema = z.object({
	token: z.string().min(1).max(8192),
	/** The room the client means to enter; must match the token's `room` claim. */
	room: RoomIdSchema.optional(),
});
export type HandshakeAuth = z.input<typeof HandshakeAuthSchema>;

export type Ack<M extends RequestMethod> = (result: Result<ResponseOf<M>>) => void;

export type ClientToServerEvents = {
	[M in RequestMethod]: (payload: RequestOf<M>, ack: Ack<M>) => void;
};

export type ServerToClientEvents = {
	[N in NotificationName]: (data: NotificationMap[N]) => void;
};
