/**
 * Clinical media profiles: what each use of the network needs from the media
 * layer. Publishers (the SDK, device encoders) take their encoder settings
 * from here; the server takes consumer priorities and ingest codecs.
 */
export interface MediaProfile {
	/** What it is for, for people choosing one. */
	description: string;
	video: {
		/** Codec the publisher should use. */
		codec: 'VP8' | 'H264';
		/** Target resolution and frame rate of the top layer. */
		width: number;
		height: number;
		maxFramerate: number;
		/** Bitrate of the top layer, bits/s. */
		maxBitrate: number;
		/** Simulcast layers (1 = none: the stream is never downscaled by the SFU). */
		layers: 1 | 2 | 3;
		/** Browser hint: 'motion' keeps frame rate, 'detail' keeps resolution. */
		contentHint: 'motion' | 'detail';
	};
	/** Consumer priority of this profile's video (1..255; higher gets bandwidth first). */
	priority: number;
}

export const MEDIA_PROFILES = {
	consult: {
		description: 'teleconsultation faces: adapts to weak links with 3 simulcast layers',
		video: { codec: 'VP8', width: 1280, height: 720, maxFramerate: 30, maxBitrate: 1_200_000, layers: 3, contentHint: 'motion' },
		priority: 1,
	},
	imaging: {
		description: 'CT / ultrasound / ECG / microscope: low motion, kept sharp (resolution over frame rate)',
		video: { codec: 'VP8', width: 1920, height: 1080, maxFramerate: 15, maxBitrate: 2_500_000, layers: 1, contentHint: 'detail' },
		priority: 128,
	},
	surgical: {
		description: 'endoscopy / operating-room camera: 1080p up to 60 fps, H.264 4–20 Mbit/s, never downscaled',
		video: { codec: 'H264', width: 1920, height: 1080, maxFramerate: 60, maxBitrate: 20_000_000, layers: 1, contentHint: 'motion' },
		priority: 255,
	},
	broadcast: {
		description: 'grand rounds: presenters to hundreds of sites, simulcast so every site gets a layer it can carry',
		video: { codec: 'VP8', width: 1280, height: 720, maxFramerate: 30, maxBitrate: 1_500_000, layers: 3, contentHint: 'detail' },
		priority: 64,
	},
} as const satisfies Record<string, MediaProfile>;

export type MediaProfileName = keyof typeof MEDIA_PROFILES;

/**
 * RTP payload type and SSRC a device encoder sends to a push-ingest endpoint.
 * Fixed values keep device configuration simple; the port tells streams apart.
 */
export const INGEST_RTP = {
	video: { payloadType: 102, ssrc: 22_222_222 },
	audio: { payloadType: 111, ssrc: 11_111_111 },
} as const;

/**
 * H.264 parameters of ingested device streams: Main profile, level 5.0
 * (1080p60). Browsers negotiate Constrained Baseline and Main but not High
 * (Chromium 156 offers 42001f, 42e01f, 4d001f, f4001f), so devices send Main,
 * without B-frames for latency.
 */
export const INGEST_H264_PARAMETERS = { 'packetization-mode': 1, 'profile-level-id': '4d0032', 'level-asymmetry-allowed': 1 } as const;
