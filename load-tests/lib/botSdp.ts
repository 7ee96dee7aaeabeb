/**
 * SDP for the media bots: what mediasoup-client does inside a browser, cut
 * down to one codec per kind. mediasoup speaks ORTC-style parameters; werift
 * (the bots' WebRTC stack) speaks SDP. The bots translate both ways:
 *   - receiving: the server's consumers become an offer from an ICE-lite
 *     "remote" (the server), werift answers;
 *   - sending: werift offers, the bot reads the producer's rtpParameters out
 *     of that offer and answers with the server's transport parameters.
 * werift always ends up the DTLS client (it answers `active`, or the remote
 * answer is `passive`), so the server is told role `client` for the bot.
 */
import sdpTransform, { type MediaDescription } from 'sdp-transform';
import type { ConsumeResponse, TransportParams } from '../../server/protocol/index.js';

export type RtpParameters = ConsumeResponse['rtpParameters'];
type Codec = RtpParameters['codecs'][number];

/** One m-section as the server sees it: a consumer (server sends) or a producer (server receives). */
export interface RemoteSection {
	mid: string;
	kind: 'audio' | 'video';
	/** From the server's side. */
	direction: 'sendonly' | 'recvonly';
	rtpParameters: RtpParameters;
	/** A closed consumer keeps its m-line, rejected with port 0, so mids never shift. */
	closed?: boolean;
}

const fmtpString = (parameters: Codec['parameters']): string =>
	Object.entries(parameters ?? {})
		.map(([k, v]) => `${k}=${String(v)}`)
		.join(';');

/** The server's side of a transport as a complete SDP (offer or answer). */
export function remoteSdp(transport: TransportParams, sections: RemoteSection[], setup: 'actpass' | 'passive', version: number): string {
	const fingerprint = transport.dtlsParameters.fingerprints.find((f) => f.algorithm === 'sha-256') ?? transport.dtlsParameters.fingerprints[0]!;
	const media: MediaDescription[] = sections.map((section) => {
		const { rtpParameters } = section;
		const encoding = rtpParameters.encodings?.[0];
		const m: MediaDescription = {
			type: section.kind,
			port: section.closed ? 0 : 7,
			protocol: 'UDP/TLS/RTP/SAVPF',
			payloads: rtpParameters.codecs.map((c) => c.payloadType).join(' '),
			connection: { version: 4, ip: '127.0.0.1' },
			iceUfrag: transport.iceParameters.usernameFragment,
			icePwd: transport.iceParameters.password,
			fingerprint: { type: fingerprint.algorithm, hash: fingerprint.value },
			setup,
			mid: section.mid,
			direction: section.closed ? 'inactive' : section.direction,
			rtcpMux: 'rtcp-mux',
			rtcpRsize: 'rtcp-rsize',
			rtp: rtpParameters.codecs.map((c) => ({
				payload: c.payloadType,
				codec: c.mimeType.split('/')[1]!,
				rate: c.clockRate,
				...(c.channels && c.channels > 1 ? { encoding: c.channels } : {}),
			})),
			fmtp: rtpParameters.codecs.filter((c) => Object.keys(c.parameters ?? {}).length > 0).map((c) => ({ payload: c.payloadType, config: fmtpString(c.parameters) })),
			rtcpFb: rtpParameters.codecs.flatMap((c) =>
				(c.rtcpFeedback ?? []).map((fb) => ({ payload: c.payloadType, type: fb.type, ...(fb.parameter ? { subtype: fb.parameter } : {}) })),
			),
			ext: (rtpParameters.headerExtensions ?? []).map((e) => ({ value: e.id, uri: e.uri })),
			candidates: transport.iceCandidates.map((c) => ({
				foundation: c.foundation,
				component: 1,
				transport: c.protocol,
				priority: c.priority,
				ip: c.ip,
				port: c.port,
				type: c.type,
				...(c.tcpType ? { tcptype: c.tcpType } : {}),
			})),
			endOfCandidates: 'end-of-candidates',
		};
		if (section.direction === 'sendonly' && encoding?.ssrc !== undefined) {
			const cname = rtpParameters.rtcp?.cname ?? 'sfu';
			m.ssrcs = [
				{ id: encoding.ssrc, attribute: 'cname', value: cname },
				{ id: encoding.ssrc, attribute: 'msid', value: `sfu-${section.mid} track-${section.mid}` },
			];
		}
		return m;
	});
	return sdpTransform.write({
		version: 0,
		origin: { username: '-', sessionId: 10000, sessionVersion: version, netType: 'IN', ipVer: 4, address: '127.0.0.1' },
		name: '-',
		timing: { start: 0, stop: 0 },
		icelite: 'ice-lite',
		groups: [{ type: 'BUNDLE', mids: sections.filter((s) => !s.closed).map((s) => s.mid).join(' ') }],
		msidSemantic: { semantic: 'WMS', token: '*' },
		media,
	});
}

/** The local DTLS fingerprint, as `connectTransport` wants it (werift is always the client). */
export function localDtlsParameters(localSdp: string): { role: 'client'; fingerprints: { algorithm: 'sha-256'; value: string }[] } {
	const parsed = sdpTransform.parse(localSdp);
	const fingerprint = parsed.fingerprint ?? parsed.media.find((m) => m.fingerprint)?.fingerprint;
	if (!fingerprint) throw new Error('local SDP has no DTLS fingerprint');
	return { role: 'client', fingerprints: [{ algorithm: 'sha-256', value: fingerprint.hash }] };
}

/**
 * What the server needs to `produce` one m-section of werift's offer: the one
 * codec wanted (by mime type), its SSRC, mid and header extensions.
 */
export function producerParameters(localSdp: string, mid: string, mimeType: string): RtpParameters {
	const parsed = sdpTransform.parse(localSdp);
	const m = parsed.media.find((media) => String(media.mid) === mid);
	if (!m) throw new Error(`local SDP has no m-section ${mid}`);
	const rtp = m.rtp.find((r) => `${m.type}/${r.codec}`.toLowerCase() === mimeType.toLowerCase());
	if (!rtp) throw new Error(`local SDP offers no ${mimeType} in m-section ${mid}`);
	const fmtp = m.fmtp.find((f) => f.payload === rtp.payload)?.config ?? '';
	const parameters: Record<string, string | number> = {};
	for (const pair of fmtp.split(';').filter(Boolean)) {
		const [key, value = ''] = pair.split('=');
		parameters[key!.trim()] = /^\d+$/.test(value) ? Number(value) : value;
	}
	const ssrc = m.ssrcs?.find((s) => s.attribute === 'cname');
	if (!ssrc) throw new Error(`local SDP has no SSRC in m-section ${mid}`);
	return {
		mid,
		codecs: [
			{
				mimeType,
				payloadType: rtp.payload,
				clockRate: rtp.rate ?? 90000,
				...(m.type === 'audio' ? { channels: Number(rtp.encoding ?? 1) } : {}),
				parameters,
				rtcpFeedback: (m.rtcpFb ?? []).filter((fb) => fb.payload === rtp.payload || fb.payload === '*').map((fb) => ({ type: fb.type, ...(fb.subtype ? { parameter: fb.subtype } : {}) })),
			},
		],
		headerExtensions: (m.ext ?? []).map((e) => ({ uri: e.uri, id: e.value })),
		encodings: [{ ssrc: Number(ssrc.id) }],
		rtcp: { cname: String(ssrc.value), reducedSize: true },
	};
}
