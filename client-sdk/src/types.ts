/**
 * The protocol types that appear in the SDK's public API, written out so the
 * published declarations (dist/types) stand alone: a portal's TypeScript
 * needs neither zod nor the server's sources. `protocol.ts` checks at compile
 * time that each one is exactly the server's definition, so they cannot drift.
 */

/** Signaling protocol version this SDK speaks (sent in `join`). */
export const PROTOCOL_VERSION = 1;

/** Roles carried by join tokens (claim `role`). */
export type Role = 'host' | 'clinician' | 'patient' | 'observer' | 'device';

/** What a track carries; drives permissions, priorities and layout. */
export type Source = 'camera' | 'microphone' | 'screen' | 'screen-audio' | 'device';

/**
 * Stable error codes sent by the server (see docs/protocol.md, section 7).
 * `room_elsewhere` (a cluster: the room is hosted by another node) is
 * followed by the SDK itself, to the node the server names.
 */
export type ErrorCode =
	| 'auth_missing_token'
	| 'auth_invalid_token'
	| 'auth_token_expired'
	| 'auth_wrong_room'
	| 'auth_invalid_claims'
	| 'unsupported_protocol_version'
	| 'invalid_payload'
	| 'unknown_method'
	| 'payload_too_large'
	| 'rate_limited'
	| 'not_joined'
	| 'already_joined'
	| 'waiting_for_admission'
	| 'not_found'
	| 'invalid_state'
	| 'cannot_consume'
	| 'room_closed'
	| 'room_full'
	| 'removed'
	| 'room_elsewhere'
	| 'limit_exceeded'
	| 'forbidden'
	| 'source_forbidden'
	| 'source_unreachable'
	| 'media_error'
	| 'unavailable'
	| 'internal_error';

/** A track a participant publishes (subscribed to or not). */
export interface ProducerInfo {
	id: string;
	peerId: string;
	kind: 'audio' | 'video';
	source: Source;
	paused: boolean;
}

/** A participant in the waiting room, as hosts see it. */
export interface WaitingPeer {
	id: string;
	role: Role;
	displayName: string;
}

/** Why a remote participant left ({@link RoomEvent.ParticipantLeft}). */
export type CloseReason = 'left' | 'disconnected' | 'removed' | 'room_ended' | 'room_closed' | 'expired' | 'server_shutdown';

/** Why this participant was removed ({@link RoomEvent.Kicked}). */
export type KickReason = 'removed' | 'expired';

/** Why the room closed for everyone ({@link RoomEvent.RoomClosed}). */
export type RoomClosedReason = 'ended_by_host' | 'server_shutdown' | 'closed';

/** How the server forwards a received track: 'simulcast' tracks have selectable layers. */
export type ConsumerType = 'simple' | 'simulcast' | 'svc' | 'pipe';

/** The room's recording, as the server last announced it ({@link Room.recording}). */
export interface RecordingState {
	/** Id of the current (or last) recording. */
	recordingId: string;
	/** True while recording: every participant must be shown that the session is recorded. */
	active: boolean;
	/** Only consenting participants are recorded; the others are asked ({@link Room.setRecordingConsent}). */
	consentRequired: boolean;
	/** Peer ids whose tracks are being recorded now. */
	recordedPeerIds: string[];
	/** Why it stopped, when it did not stop by request (e.g. `disk_full`, `recorder_failed`). */
	error?: { code: string; message: string };
}

/** 'broadcast': a grand round (viewers are not announced one by one; presenters get an audience count). */
export type RoomType = 'consult' | 'broadcast';

/** State of a device source the server pulls into the room (RTSP, SRT, HTTP, HLS). */
export type IngestState = 'connecting' | 'live' | 'retrying' | 'failed' | 'stopped';

/** Why a pulled source is retrying or failed (coarse on purpose: the server never relays ffmpeg's own text). */
export type IngestFailureCode = 'source_forbidden' | 'source_unreachable' | 'source_invalid' | 'ingest_failed';

/** A pulled device source, as the server last announced it ({@link RoomEvent.IngestStateChanged}). */
export interface IngestSourceInfo {
	ingestId: string;
	/** The server-side participant that carries the source's tracks. */
	peerId: string;
	name: string;
	state: IngestState;
	/** Why it is retrying or failed: a stable code, and a generic sentence for people. */
	code?: IngestFailureCode;
	reason?: string;
	/** Retry number and when the next try happens (ms from now). */
	attempt?: number;
	retryInMs?: number;
}

/** Where a device encoder sends its RTP (push ingest; see the server README). */
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
	/** The key the sender encrypts with (absent only when `srtp: false` was asked). */
	srtp?: { cryptoSuite: 'AES_CM_128_HMAC_SHA1_80'; keyBase64: string };
	/** The only sender accepted, when `sourceAddress` was given. */
	sourceAddress?: string;
	/** An SDP describing the streams, for senders that take one (ffmpeg, GStreamer). */
	sdp: string;
}
