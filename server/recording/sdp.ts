import { write, type MediaDescription } from 'sdp-transform';
import type { types } from 'mediasoup';

/** One RTP stream ffmpeg receives: the consumer's parameters and the local port it arrives on. */
export interface SdpTrack {
	kind: types.MediaKind;
	port: number;
	rtpParameters: types.RtpParameters;
}

/**
 * The SDP ffmpeg reads to receive our PlainTransport consumers: one m-line per
 * track with the consumer's payload type (the router's, not the browser's),
 * RTCP on port + 1.
 */
export function recordingSdp(tracks: readonly SdpTrack[]): string {
	const media: MediaDescription[] = tracks.map((track) => {
		const codec = track.rtpParameters.codecs[0];
		if (!codec) throw new Error('a recorded track needs a codec');
		const [, name] = codec.mimeType.split('/');
		const fmtp = Object.entries((codec.parameters ?? {}) as Record<string, unknown>).map(([key, value]) => `${key}=${String(value)}`);
		return {
			type: track.kind,
			port: track.port,
			protocol: 'RTP/AVP',
			payloads: String(codec.payloadType),
			connection: { version: 4, ip: '127.0.0.1' },
			rtp: [{ payload: codec.payloadType, codec: name!, rate: codec.clockRate, ...(codec.channels && codec.channels > 1 ? { encoding: codec.channels } : {}) }],
			fmtp: fmtp.length > 0 ? [{ payload: codec.payloadType, config: fmtp.join(';') }] : [],
			rtcp: { port: track.port + 1 },
			direction: 'recvonly',
		};
	});
	return write({
		version: 0,
		origin: { username: '-', sessionId: 0, sessionVersion: 0, netType: 'IN', ipVer: 4, address: '127.0.0.1' },
		name: 'telehealth-recording',
		timing: { start: 0, stop: 0 },
		connection: { version: 4, ip: '127.0.0.1' },
		media,
	});
}
