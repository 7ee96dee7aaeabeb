/**
 * The domain vocabulary of protocol v1: the words every layer of the server
 * and the client SDK share (roles, sources, error codes, ids). Wire messages
 * built from them live beside this file (requests, responses, notifications).
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
	/** The host removed this user from the room: it may not join it again while the room lasts. */
	'removed',
	/** The room lives on another node of the cluster: reconnect to `redirectUrl`. */
	'room_elsewhere',
	'limit_exceeded',
	// Permission.
	'forbidden',
	/** A pulled ingest source whose address the server may not connect to (private, loopback, link-local… unless INGEST_ALLOWED_HOSTS allows it). */
	'source_forbidden',
	/** A pulled ingest source whose host name does not resolve. */
	'source_unreachable',
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

/** Why a participant left a room (`peerLeft.reason`). */
export type CloseReason = 'left' | 'disconnected' | 'removed' | 'room_ended' | 'room_closed' | 'expired' | 'server_shutdown';

/** A pulled device source's state. */
export type IngestState = 'connecting' | 'live' | 'retrying' | 'failed' | 'stopped';

/**
 * Why a pulled source is retrying or failed (`ingestState.code`): its address
 * is not allowed, it cannot be opened (unreachable, refused, not media), it has
 * no video, or the ingest process failed. Deliberately coarse: the room never
 * sees ffmpeg's own text, which would make the server a port scanner.
 */
export type IngestFailureCode = 'source_forbidden' | 'source_unreachable' | 'source_invalid' | 'ingest_failed';


/** mediasoup object ids (UUIDs) and peer ids. */
export const IdSchema = z.string().min(1).max(64).regex(/^[A-Za-z0-9-]+$/, 'must be an id');

/** Room ids chosen by portals: URL-safe, bounded. */
export const RoomIdSchema = z
	.string()
	.min(1)
	.max(128)
	.regex(/^[A-Za-z0-9._~-]+$/, 'must contain only letters, digits and . _ ~ -');

