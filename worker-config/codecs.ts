import type { types } from 'mediasoup';

/**
 * The codecs every room's router offers. Order matters: mediasoup picks the
 * first codec a consumer supports, and browsers should prefer VP8 (simulcast)
 * for faces while device encoders send H.264.
 */
export const ROUTER_MEDIA_CODECS: types.RtpCodecCapability[] = [
	{
		kind: 'audio',
		mimeType: 'audio/opus',
		clockRate: 48000,
		channels: 2,
		// Opus in-band FEC and DTX matter on the weak links of district hospitals.
		parameters: { useinbandfec: 1, usedtx: 1 },
	},
	{
		kind: 'video',
		mimeType: 'video/VP8',
		clockRate: 90000,
		parameters: { 'x-google-start-bitrate': 1000 },
	},
	{
		kind: 'video',
		mimeType: 'video/VP9',
		clockRate: 90000,
		parameters: { 'profile-id': 2, 'x-google-start-bitrate': 1000 },
	},
	{
		// Constrained baseline: what browsers and most hardware encoders share.
		kind: 'video',
		mimeType: 'video/H264',
		clockRate: 90000,
		parameters: {
			'packetization-mode': 1,
			'profile-level-id': '42e01f',
			'level-asymmetry-allowed': 1,
			'x-google-start-bitrate': 1000,
		},
	},
	{
		// Main profile, level 5.0: 1080p60 device streams that browsers can negotiate.
		kind: 'video',
		mimeType: 'video/H264',
		clockRate: 90000,
		parameters: {
			'packetization-mode': 1,
			'profile-level-id': '4d0032',
			'level-asymmetry-allowed': 1,
			'x-google-start-bitrate': 1000,
		},
	},
	{
		// High profile, level 5.1: for non-browser consumers (recorders, other SFUs).
		kind: 'video',
		mimeType: 'video/H264',
		clockRate: 90000,
		parameters: {
			'packetization-mode': 1,
			'profile-level-id': '640033',
			'level-asymmetry-allowed': 1,
			'x-google-start-bitrate': 1000,
		},
	},
];
