import type { RequestOf } from '../../server/protocol/index.js';
import type { TestClient } from './sfu.js';

let ssrc = 1000;

/** RTP parameters as a browser's opus sender would declare them. */
export function opusParameters(): RequestOf<'produce'>['rtpParameters'] {
	return {
		mid: '0',
		codecs: [{ mimeType: 'audio/opus', payloadType: 111, clockRate: 48000, channels: 2, parameters: { useinbandfec: 1 }, rtcpFeedback: [] }],
		headerExtensions: [],
		encodings: [{ ssrc: ++ssrc }],
		rtcp: { cname: 'test' },
	};
}

/** RTP parameters of a 3-layer VP8 simulcast camera. */
export function vp8SimulcastParameters(): RequestOf<'produce'>['rtpParameters'] {
	return {
		mid: '1',
		codecs: [
			{
				mimeType: 'video/VP8',
				payloadType: 96,
				clockRate: 90000,
				rtcpFeedback: [{ type: 'nack' }, { type: 'nack', parameter: 'pli' }, { type: 'ccm', parameter: 'fir' }],
			},
		],
		headerExtensions: [],
		encodings: [{ ssrc: ++ssrc, scaleResolutionDownBy: 4 }, { ssrc: ++ssrc, scaleResolutionDownBy: 2 }, { ssrc: ++ssrc }],
		rtcp: { cname: 'test' },
	};
}

/**
 * Joins and sets up a peer the way the SDK does, minus the browser: device
 * capabilities are the router's own, transports are never DTLS-connected.
 */
export async function joinWithMedia(client: TestClient, options: { produce?: ('audio' | 'video')[] } = {}) {
	const join = await client.ok('join', { protocolVersion: 1 });
	if (join.waiting) throw new Error('unexpectedly waiting');
	await client.ok('setRtpCapabilities', { rtpCapabilities: join.routerRtpCapabilities });
	const send = await client.ok('createTransport', { direction: 'send' });
	const recv = await client.ok('createTransport', { direction: 'recv' });
	const producers: Record<string, string> = {};
	for (const kind of options.produce ?? []) {
		const { id } = await client.ok('produce', {
			transportId: send.id,
			kind,
			rtpParameters: kind === 'audio' ? opusParameters() : vp8SimulcastParameters(),
			source: kind === 'audio' ? 'microphone' : 'camera',
		});
		producers[kind] = id;
	}
	return { join, send, recv, producers };
}
