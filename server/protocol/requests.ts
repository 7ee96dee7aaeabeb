/**
 * Requests (client → server, acknowledged) of protocol v1: one zod schema per
 * method. The server validates every payload with these before acting.
 */
import { z } from 'zod';
import { DtlsParametersSchema, RtpCapabilitiesSchema, RtpParametersSchema } from './rtp.js';
import { safeText } from './text.js';
import { IdSchema, RoomIdSchema, SOURCES } from './vocabulary.js';

const Int = z.number().int();
/** `ip`, `ip:port`, `ipv6` or `[ipv6]:port` (the address itself is checked by the server). */
const SOURCE_ADDRESS = /^(\[[0-9a-fA-F:.]+\](:\d{1,5})?|[0-9.]+(:\d{1,5})?|[0-9a-fA-F:.]+)$/;

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
	refreshToken: z.strictObject({ token: safeText(8192) }),
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
	 * where a hardware encoder should send RTP. Default: video only, SRTP
	 * (AES_CM_128_HMAC_SHA1_80, key in the answer); plain RTP only with `srtp: false`.
	 */
	createIngest: z.strictObject({
		kinds: z.array(z.enum(['audio', 'video'])).min(1).max(2).optional(),
		/** Default true. `false` accepts unencrypted RTP: anyone who can reach the port and guess the SSRC may then send. */
		srtp: z.boolean().optional(),
		/**
		 * Accept media only from this sender: `ip:port` (RTP from that port, RTCP
		 * from port+1; anything else is dropped), `[ipv6]:port`, or just an IP
		 * (a sender from any other address is thrown off as soon as it is seen). Default: any sender.
		 */
		sourceAddress: z
			.string()
			.max(64)
			.regex(SOURCE_ADDRESS, 'must be ip, ip:port or [ipv6]:port')
			.optional(),
	}),
	/** Pull ingest (host): the server pulls an RTSP / SRT / HTTP(S) / HLS source into the room. */
	addIngestSource: z.strictObject({
		url: safeText(2048),
		/** Shown to participants as the device's name. */
		name: safeText(64).optional(),
	}),
	removeIngestSource: z.strictObject({ ingestId: IdSchema }),
} as const;

export type RequestMethod = keyof typeof RequestSchemas;
export type RequestOf<M extends RequestMethod> = z.input<(typeof RequestSchemas)[M]>;
export const REQUEST_METHODS = Object.keys(RequestSchemas) as RequestMethod[];

/** `auth` of the Socket.IO handshake. */
export const HandshakeAuthSchema = z.object({
	token: safeText(8192),
	/** The room the client means to enter; must match the token's `room` claim. */
	room: RoomIdSchema.optional(),
});
export type HandshakeAuth = z.input<typeof HandshakeAuthSchema>;
