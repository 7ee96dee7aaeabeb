/**
 * Media profiles: what each clinical use needs from the media layer, and the
 * one table of send settings and consumer priorities. The SDK encodes each
 * source with its profile's `encodings`, the server gives each consumer its
 * source's `priority`, and push/pulled device streams use the surgical
 * profile's H.264 parameters. Pure data: the browser SDK bundles it too.
 */

/** What a track carries (the protocol's `Source`). */
export type MediaSource = 'camera' | 'microphone' | 'screen' | 'screen-audio' | 'device';

/** One layer a publisher sends (mediasoup-client / WebRTC encoding parameters). */
export interface SendEncoding {
	/** Downscale factor of this layer (1 = full resolution). */
	scaleResolutionDownBy?: number;
	/** Bitrate cap of this layer, bits/s. */
	maxBitrate: number;
	/** Temporal layers within the layer (VP8 simulcast: L1T3). */
	scalabilityMode?: string;
}

export interface MediaProfile {
	/** What it is for, for people choosing one. */
	description: string;
	/** The sources this profile applies to. */
	sources: readonly MediaSource[];
	/**
	 * Consumer priority (1..255): under congestion a viewer's bandwidth goes to
	 * higher priorities first. A device stream outranks audio, which outranks
	 * shared imaging, which outranks faces.
	 */
	priority: number;
	/**
	 * The sender's share of its own uplink when the browser's estimate is
	 * short (WebRTC encoding `priority` and `networkPriority`, the latter a
	 * DSCP mark): 'high' is four times 'low'. Default 'low'.
	 */
	sendPriority?: 'very-low' | 'low' | 'medium' | 'high';
	video?: {
		/** Codec the publisher uses. */
		codec: 'VP8' | 'H264';
		/**
		 * Layers, lowest first. Several: simulcast, each viewer gets the layer its
		 * link and layout carry. One: the stream is never downscaled by the SFU.
		 */
		encodings: readonly SendEncoding[];
		/** Browser hint: 'motion' keeps frame rate, 'detail' keeps resolution. */
		contentHint: 'motion' | 'detail';
		/**
		 * The lowest layer when the sender's own uplink cannot carry it (a phone
		 * on a weak cell): fewer frames and bits, so the voice keeps its share.
		 * Unset: the lowest layer as it is.
		 */
		weakUplinkFloor?: { maxBitrate: number; maxFramerate: number };
	};
}

export const MEDIA_PROFILES = {
	consult: {
		description: 'teleconsultation faces: adapts to weak links with 3 simulcast layers (¼, ½, full)',
		sources: ['camera'],
		priority: 1,
		video: {
			codec: 'VP8',
			encodings: [
				{ scaleResolutionDownBy: 4, maxBitrate: 150_000, scalabilityMode: 'L1T3' },
				{ scaleResolutionDownBy: 2, maxBitrate: 500_000, scalabilityMode: 'L1T3' },
				{ scaleResolutionDownBy: 1, maxBitrate: 1_200_000, scalabilityMode: 'L1T3' },
			],
			contentHint: 'motion',
			weakUplinkFloor: { maxBitrate: 70_000, maxFramerate: 10 },
		},
	},
	imaging: {
		description: 'screen share of CT / ultrasound / ECG / slides: low motion, kept sharp (resolution over frame rate)',
		sources: ['screen'],
		priority: 128,
		video: { codec: 'VP8', encodings: [{ maxBitrate: 1_500_000 }], contentHint: 'detail' },
	},
	surgical: {
		description: 'endoscopy / operating-room camera: H.264 1080p up to 60 fps, 4–20 Mbit/s, never downscaled',
		sources: ['device'],
		priority: 255,
		video: { codec: 'H264', encodings: [{ maxBitrate: 20_000_000 }], contentHint: 'motion' },
	},
	voice: {
		description: 'speech: cheap, and never starved by video',
		sources: ['microphone'],
		priority: 200,
		sendPriority: 'high',
	},
	'shared-audio': {
		description: 'the audio of a shared screen or tab',
		sources: ['screen-audio'],
		priority: 150,
		sendPriority: 'medium',
	},
} as const satisfies Record<string, MediaProfile>;

export type MediaProfileName = keyof typeof MEDIA_PROFILES;

/** The profile of each source. */
export function profileOf(source: MediaSource): MediaProfile {
	for (const profile of Object.values(MEDIA_PROFILES) as MediaProfile[]) {
		if (profile.sources.includes(source)) return profile;
	}
	throw new TypeError(`no media profile for source ${String(source)}`);
}

/** A new consumer's priority, from its producer's source (setConsumerPriority overrides it). */
export function consumerPriority(source: MediaSource): number {
	return profileOf(source).priority;
}

/**
 * RTP payload types a device encoder sends to a push-ingest endpoint (fixed:
 * simple device configuration; the port tells streams apart). Endpoints draw
 * random SSRCs (server/ingest/ingestInput.ts); the SSRCs here are what the
 * benchmarks' stand-alone senders use.
 */
export const INGEST_RTP = {
	video: { payloadType: 102, ssrc: 22_222_222 },
	audio: { payloadType: 111, ssrc: 11_111_111 },
} as const;

/**
 * H.264 parameters of ingested device streams (the surgical profile): Main
 * profile, level 5.0 (1080p60). Browsers negotiate Constrained Baseline and
 * Main but not High (Chromium 156 offers 42001f, 42e01f, 4d001f, f4001f), so
 * devices send Main, without B-frames for latency.
 */
export const INGEST_H264_PARAMETERS = { 'packetization-mode': 1, 'profile-level-id': '4d0032', 'level-asymmetry-allowed': 1 } as const;
