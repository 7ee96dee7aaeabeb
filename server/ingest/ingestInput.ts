import type { types } from 'mediasoup';
import { INGEST_H264_PARAMETERS, INGEST_RTP } from '../../worker-config/index.js';
import type { PeerMedia } from '../media/index.js';

/** What a device encoder is expected to send: H.264 High (video) and opus (audio), fixed PT/SSRC. */
export function ingestInput(kinds: types.MediaKind[], network: { listenIp: string; announcedIp?: string; srtp: boolean }): Parameters<PeerMedia['createIngest']>[0] {
	return {
		kinds,
		listenIp: network.listenIp,
		...(network.announcedIp ? { announcedIp: network.announcedIp } : {}),
		srtp: network.srtp,
		video: { mimeType: 'video/H264', clockRate: 90000, parameters: { ...INGEST_H264_PARAMETERS } },
		audio: { mimeType: 'audio/opus', clockRate: 48000, channels: 2, parameters: {} },
		rtp: { video: { ...INGEST_RTP.video }, audio: { ...INGEST_RTP.audio } },
	};
}
