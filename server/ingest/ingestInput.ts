import { randomInt } from 'node:crypto';
import type { types } from 'mediasoup';
import { INGEST_H264_PARAMETERS, INGEST_RTP } from '../../worker-config/index.js';
import type { PeerMedia } from '../media/index.js';

/**
 * What a device encoder is expected to send: H.264 Main (video) and opus
 * (audio) with the documented payload types, and SSRCs drawn at random per
 * endpoint (handed to the encoder in the answer and its SDP), so a stray
 * sender cannot know them from the documentation.
 */
export function ingestInput(
	kinds: types.MediaKind[],
	network: { listenIp: string; announcedIp?: string; srtp: boolean; source?: { ip: string; port?: number } },
): Parameters<PeerMedia['createIngest']>[0] {
	const videoSsrc = randomSsrc();
	let audioSsrc = randomSsrc();
	while (audioSsrc === videoSsrc) audioSsrc = randomSsrc();
	return {
		kinds,
		listenIp: network.listenIp,
		...(network.announcedIp ? { announcedIp: network.announcedIp } : {}),
		srtp: network.srtp,
		video: { mimeType: 'video/H264', clockRate: 90000, parameters: { ...INGEST_H264_PARAMETERS } },
		audio: { mimeType: 'audio/opus', clockRate: 48000, channels: 2, parameters: {} },
		rtp: { video: { payloadType: INGEST_RTP.video.payloadType, ssrc: videoSsrc }, audio: { payloadType: INGEST_RTP.audio.payloadType, ssrc: audioSsrc } },
		...(network.source ? { source: network.source } : {}),
	};
}

/**
 * A random SSRC in 1 … 2³¹−1: not 0 (some encoders read it as "pick one
 * yourself"), and below 2³¹ because ffmpeg's `-ssrc` is a signed 32-bit
 * option that refuses larger values.
 */
function randomSsrc(): number {
	return randomInt(1, 0x7fff_ffff);
}
