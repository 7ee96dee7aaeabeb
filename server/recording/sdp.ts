import { write, type MediaDescription } from 'sdp-transform';
import type { types } from 'mediasoup';

/** One RTP stream ffmpeg receives: the consumer's parameters and the local port it arrives on. */
export interface SdpTrack {
	kind: types.MediaKind;
	port: number;
	rtpParameters: types.RtpParameters;
}

/** Where the streams come from and go to (see ports.ts: two loopback addresses). */
export interface SdpAddresses {
	/** The worker's side: ffmpeg connects its sockets to `<source>:<port>` and takes packets from nowhere else. */
	source: string;
	/** Written in the origin line only; ffmpeg binds to it through `-localaddr`. */
	local: string;
}

/**
 * What an fmtp key and value may hold: the parameters the router's codecs use
 * (`profile-level-id=42e01f`, `sprop-parameter-sets=Z0IAH+KQ…==,aM48gA==`).
 * Producers are validated at the protocol already; this is the second fence,
 * so nothing a client sent can ever add a line to the recorder's SDP.
 */
const FMTP_KEY = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;
const FMTP_VALUE = /^[A-Za-z0-9_.+/=,:-]{0,256}$/;
const CODEC_NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,31}$/;

/** The codec parameters safe to put on an fmtp line; the rest are left out. */
export function safeFmtp(parameters: Record<string, unknown> | undefined): string[] {
	const out: string[] = [];
	for (const [key, value] of Object.entries(parameters ?? {})) {
		const text = typeof value === 'number' && Number.isFinite(value) ? String(value) : typeof value === 'string' ? value : null;
		if (text === null || !FMTP_KEY.test(key) || !FMTP_VALUE.test(text)) continue;
		out.push(`${key}=${text}`);
	}
	return out;
}

/**
 * The SDP ffmpeg reads to receive our PlainTransport consumers: one m-line per
 * track with the consumer's payload type (the router's, not the browser's).
 * RTCP is muxed on the RTP port (ffmpeg reads sender reports from it too).
 */
export function recordingSdp(tracks: readonly SdpTrack[], addresses: SdpAddresses): string {
	const media: MediaDescription[] = tracks.map((track) => {
		const codec = track.rtpParameters.codecs[0];
		if (!codec) throw new Error('a recorded track needs a codec');
		const [, name] = codec.mimeType.split('/');
		if (!name || !CODEC_NAME.test(name)) throw new Error('a recorded track has a codec name the recorder cannot take');
		const fmtp = safeFmtp(codec.parameters as Record<string, unknown> | undefined);
		return {
			type: track.kind,
			port: track.port,
			protocol: 'RTP/AVP',
			payloads: String(codec.payloadType),
			connection: { version: 4, ip: addresses.source },
			rtp: [{ payload: codec.payloadType, codec: name, rate: codec.clockRate, ...(codec.channels && codec.channels > 1 ? { encoding: codec.channels } : {}) }],
			fmtp: fmtp.length > 0 ? [{ payload: codec.payloadType, config: fmtp.join(';') }] : [],
			direction: 'recvonly',
		};
	});
	return write({
		version: 0,
		origin: { username: '-', sessionId: 0, sessionVersion: 0, netType: 'IN', ipVer: 4, address: addresses.local },
		name: 'telehealth-recording',
		timing: { start: 0, stop: 0 },
		connection: { version: 4, ip: addresses.source },
		media,
	});
}
