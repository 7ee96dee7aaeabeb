import { randomBytes } from 'node:crypto';
import type { IngestEndpointInfo, NotificationMap } from '../../server/protocol/index.js';
import type { TestClient, TestSfu } from '../support/sfu.js';

type IngestState = NotificationMap['ingestState'];

/** The documented device command: 1080p30 H.264 Main at 8 Mbit/s, no B-frames, 1 s GOP, SPS/PPS before every IDR; SRTP when the endpoint has a key. */
export function pushCommand(endpoint: IngestEndpointInfo, options: { width?: number; height?: number; fps?: number; bitrate?: string } = {}): string[] {
	const video = endpoint.streams.find((s) => s.kind === 'video')!;
	const { width = 1920, height = 1080, fps = 30, bitrate = '8M' } = options;
	return [
		'-hide_banner', '-loglevel', 'error', '-nostdin',
		'-re', '-f', 'lavfi', '-i', `testsrc2=size=${width}x${height}:rate=${fps}`,
		'-c:v', 'libx264', '-profile:v', 'main', '-bf', '0', '-preset', 'ultrafast', '-tune', 'zerolatency', '-pix_fmt', 'yuv420p',
		'-b:v', bitrate, '-maxrate', bitrate, '-bufsize', bitrate, '-g', String(fps), '-x264-params', 'repeat-headers=1',
		'-f', 'rtp', '-payload_type', String(video.payloadType), '-ssrc', String(video.ssrc),
		...(endpoint.srtp ? ['-srtp_out_suite', endpoint.srtp.cryptoSuite, '-srtp_out_params', endpoint.srtp.keyBase64] : []),
		`${endpoint.srtp ? 'srtp' : 'rtp'}://${video.ip}:${video.port}?rtcpport=${video.rtcpPort}&pkt_size=1200`,
	];
}

/** One RTP packet (version 2, no extensions) with a random payload: a stray or forged sender's packet. */
export function rtpPacket(payloadType: number, ssrc: number, seq: number, payloadBytes = 400): Buffer {
	const header = Buffer.alloc(12);
	header[0] = 0x80;
	header[1] = payloadType & 0x7f;
	header.writeUInt16BE(seq & 0xffff, 2);
	header.writeUInt32BE(seq * 3000, 4);
	header.writeUInt32BE(ssrc, 8);
	return Buffer.concat([header, randomBytes(payloadBytes)]);
}

/** Waits for a pulled source's state; on timeout says which states were seen and the ingest logs. */
export async function waitForIngestState(host: TestClient, sfu: TestSfu, ingestId: string, state: IngestState['state'], timeoutMs: number): Promise<IngestState> {
	try {
		return await host.waitForNotification('ingestState', (d) => d.ingestId === ingestId && d.state === state, timeoutMs);
	} catch (error) {
		const seen = host.notifications.filter((n) => n.name === 'ingestState').map((n) => n.data);
		const logs = sfu.logs.filter((l) => l['module'] === 'ingest').slice(-8).map((l) => JSON.stringify(l));
		throw new Error(`no "${state}" for ${ingestId}; states seen: ${JSON.stringify(seen)}; ingest logs: ${logs.join('\n')}`, { cause: error });
	}
}
