/**
 * System (a), ours: the server's own media path, in process. A one-worker
 * WorkerPool with the server's configuration defaults (loadConfig: worker log
 * level and tags, RTC port range), a router with the production codecs
 * (ROUTER_MEDIA_CODECS), and the device push-ingest endpoint exactly as
 * createIngest opens it (IngestStream: comedia PlainTransport, producer with the
 * fixed ingest payload type and SSRC, NACK/PLI/FIR). Each receiver is a consumer
 * on its own PlainTransport (rtcp-mux, connected to a sink port):
 *  - "ours": consuming with the router's full RTP capabilities, what a WebRTC
 *    viewer negotiates (NACK, PLI, FIR, RTX, transport-cc send-side BWE, header
 *    extensions);
 *  - "ours-lean": codec only (no RTCP feedback, no header extensions).
 * The worker (all threads) is pinned to core 1 and is the measured process.
 * No WebRtcServer is opened (PlainTransports do not use it, and its fixed port
 * could collide with a server running on the machine).
 */
import type { types } from 'mediasoup';
import { pino } from 'pino';
import { loadConfig } from '../../server/config/index.js';
import { ingestInput } from '../../server/ingest/ingestInput.js';
import { IngestStream, WorkerPool } from '../../server/media/index.js';
import { ROUTER_MEDIA_CODECS } from '../../worker-config/index.js';
import { pin } from '../lib/measure.js';
import { onCleanup } from './processes.js';
import { SYSTEM_CORE, type RunningSystem, type SystemStarter } from './trial.js';

export type OursVariant = 'full' | 'lean';

/** Codec-only capabilities: the router's H.264 codecs without feedback, no header extensions. */
function leanCapabilities(router: types.Router): types.RtpCapabilities {
	const codecs = (router.rtpCapabilities.codecs ?? []).filter((c) => c.mimeType === 'video/H264').map((c) => ({ ...c, rtcpFeedback: [] }));
	return { codecs, headerExtensions: [] };
}

export function oursSystem(variant: OursVariant): SystemStarter {
	return async (sinkPorts): Promise<RunningSystem> => {
		const config = loadConfig({ DEMO: '1' });
		const pool = await WorkerPool.create(
			{
				numWorkers: 1,
				logLevel: config.mediasoup.logLevel,
				logTags: config.mediasoup.logTags,
				rtcMinPort: config.mediasoup.rtcMinPort,
				rtcMaxPort: config.mediasoup.rtcMaxPort,
				respawnDelayMs: config.mediasoup.workerRespawnDelayMs,
			},
			pino({ level: 'warn' }),
		);
		const unregister = onCleanup(() => pool.close());
		const close = async (): Promise<void> => {
			unregister();
			await pool.close();
		};
		try {
			const worker = pool.workers[0]!;
			pin(worker.pid, SYSTEM_CORE);
			const router = await worker.createRouter({ mediaCodecs: ROUTER_MEDIA_CODECS });
			const input = ingestInput(['video'], { listenIp: '127.0.0.1', srtp: false });
			const ingest = await IngestStream.open(router, { peerId: 'bench-device', kind: 'video', input, srtpKey: null });
			const capabilities = variant === 'full' ? router.rtpCapabilities : leanCapabilities(router);
			for (const port of sinkPorts) {
				const transport = await router.createPlainTransport({ listenIp: { ip: '127.0.0.1' }, rtcpMux: true, comedia: false });
				await transport.connect({ ip: '127.0.0.1', port });
				await transport.consume({ producerId: ingest.producer.id, rtpCapabilities: capabilities });
			}
			const { payloadType, ssrc } = input.rtp.video;
			return { pid: worker.pid, inputPort: ingest.endpoint.port, ssrc, payloadType, close };
		} catch (error) {
			await close();
			throw error;
		}
	};
}
