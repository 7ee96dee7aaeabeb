/** What each request answers with (the `data` of a successful {@link Result}). */
import type { z } from 'zod';
import type { RequestMethod } from './requests.js';
import type { RtpCapabilitiesSchema, RtpParametersSchema } from './rtp.js';
import type { Role, Source } from './vocabulary.js';

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
	/** The key the sender encrypts with (absent only when `srtp: false` was asked). */
	srtp?: { cryptoSuite: 'AES_CM_128_HMAC_SHA1_80'; keyBase64: string };
	/** The only sender accepted, when `sourceAddress` was given. */
	sourceAddress?: string;
	/** An SDP describing the streams, for senders that take one (ffmpeg, GStreamer). */
	sdp: string;
}

export type ResponseOf<M extends RequestMethod> = ResponseMap[M];
