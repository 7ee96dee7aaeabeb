import { write, type MediaDescription } from 'sdp-transform';
import type { IngestEndpoint } from '../media/index.js';

/**
 * An SDP describing a push-ingest endpoint from the sender's side: where to
 * send each stream, with which payload type and SSRC. Encoders that take an
 * SDP (GStreamer's sdpdemux, some hardware) can use it as-is.
 */
export function ingestSdp(endpoint: IngestEndpoint): string {
	const media: MediaDescription[] = endpoint.streams.map((stream) => {
		const [, name] = stream.codec.mimeType.split('/');
		const fmtp = Object.entries(stream.codec.parameters).map(([key, value]) => `${key}=${String(value)}`);
		return {
			type: stream.kind,
			port: stream.port,
			protocol: endpoint.srtp ? 'RTP/SAVP' : 'RTP/AVP',
			payloads: String(stream.payloadType),
			connection: { version: 4, ip: stream.ip },
			rtp: [{ payload: stream.payloadType, codec: name!, rate: stream.codec.clockRate, ...(stream.codec.channels && stream.codec.channels > 1 ? { encoding: stream.codec.channels } : {}) }],
			fmtp: fmtp.length > 0 ? [{ payload: stream.payloadType, config: fmtp.join(';') }] : [],
			rtcp: { port: stream.rtcpPort },
			ssrcs: [{ id: stream.ssrc, attribute: 'cname', value: 'device' }],
			...(endpoint.srtp ? { crypto: [{ id: 1, suite: endpoint.srtp.cryptoSuite, config: `inline:${endpoint.srtp.keyBase64}` }] } : {}),
			direction: 'sendonly',
		};
	});
	return write({
		version: 0,
		origin: { username: '-', sessionId: 0, sessionVersion: 0, netType: 'IN', ipVer: 4, address: endpoint.streams[0]?.ip ?? '127.0.0.1' },
		name: 'telehealth-device-ingest',
		timing: { start: 0, stop: 0 },
		media,
	});
}
