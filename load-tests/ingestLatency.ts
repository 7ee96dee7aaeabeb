/**
 * Benchmark: what the SFU adds to a surgical device stream.
 *
 *   npm run bench:ingest [-- --seconds 10 --viewers 1,10 --fps 60 --bitrate 8M]
 *
 * A pre-encoded 1080p60 H.264 clip (8 Mbit/s by default) is streamed by
 * ffmpeg (`-c copy`, real-time pace) through a timestamping UDP relay into a
 * mediasoup PlainTransport producer (the push-ingest path) and out through N
 * PlainTransport consumers to UDP sinks, all on loopback. Each packet is
 * matched in and out by its payload (mediasoup rewrites headers, never
 * payloads), giving the latency the SFU adds (p50/p99). The worker's CPU comes
 * from /proc/<pid>/schedstat (exact run time), reported per Mbit/s forwarded.
 * Prints a table and writes load-tests/results/ingest-latency.json. Every
 * loop is bounded; everything it starts it stops.
 */
import { execFileSync, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createSocket, type Socket } from 'node:dgram';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import * as mediasoup from 'mediasoup';
import { INGEST_H264_PARAMETERS, INGEST_RTP, ROUTER_MEDIA_CODECS } from '../worker-config/index.js';

const { values } = parseArgs({
	options: {
		seconds: { type: 'string', default: '10' },
		viewers: { type: 'string', default: '1,10' },
		fps: { type: 'string', default: '60' },
		bitrate: { type: 'string', default: '8M' },
	},
});
const seconds = Math.min(60, Math.max(3, Number(values.seconds)));
const viewerCounts = values.viewers.split(',').map(Number).filter((n) => n >= 1 && n <= 200);
const fps = Number(values.fps);

/** CPU time of every thread of a process, ns (schedstat is exact; utime ticks are 4 ms here). */
function cpuNs(pid: number): number {
	return readdirSync(`/proc/${pid}/task`).reduce((sum, tid) => sum + Number(readFileSync(`/proc/${pid}/task/${tid}/schedstat`, 'utf8').split(' ')[0]), 0);
}

function percentile(sorted: number[], p: number): number {
	if (sorted.length === 0) return NaN;
	return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

function payloadKey(packet: Buffer): string | null {
	if (packet.length < 12 || packet[0]! >> 6 !== 2) return null;
	const csrc = packet[0]! & 0x0f;
	let offset = 12 + csrc * 4;
	if (packet[0]! & 0x10) {
		if (packet.length < offset + 4) return null;
		offset += 4 + packet.readUInt16BE(offset + 2) * 4;
	}
	return createHash('sha1').update(packet.subarray(offset)).digest('base64');
}

function bind(socket: Socket): Promise<number> {
	return new Promise((resolve) => socket.bind(0, '127.0.0.1', () => resolve(socket.address().port)));
}

const scratch = mkdtempSync(path.join(tmpdir(), 'sfu-bench-ingest-'));
const clip = path.join(scratch, 'clip.mp4');
process.stdout.write(`encoding a ${seconds + 2} s 1080p${fps} H.264 clip at ${values.bitrate}bit/s…\n`);
execFileSync('ffmpeg', [
	'-v', 'error', '-f', 'lavfi', '-i', `testsrc2=size=1920x1080:rate=${fps}`, '-t', String(seconds + 2),
	'-c:v', 'libx264', '-profile:v', 'main', '-bf', '0', '-preset', 'ultrafast', '-pix_fmt', 'yuv420p',
	'-b:v', values.bitrate, '-maxrate', values.bitrate, '-bufsize', values.bitrate, '-g', String(fps), '-x264-params', 'repeat-headers=1', clip,
]);

const worker = await mediasoup.createWorker({ logLevel: 'error', rtcMinPort: 46000, rtcMaxPort: 46999 });
const results: Record<string, unknown>[] = [];
try {
	for (const viewers of viewerCounts) {
		const router = await worker.createRouter({ mediaCodecs: ROUTER_MEDIA_CODECS });
		const ingest = await router.createPlainTransport({ listenIp: '127.0.0.1', rtcpMux: false, comedia: true });
		const producer = await ingest.produce({
			kind: 'video',
			rtpParameters: {
				codecs: [{ mimeType: 'video/H264', clockRate: 90000, payloadType: INGEST_RTP.video.payloadType, parameters: { ...INGEST_H264_PARAMETERS }, rtcpFeedback: [{ type: 'nack' }, { type: 'nack', parameter: 'pli' }] }],
				encodings: [{ ssrc: INGEST_RTP.video.ssrc }],
			},
			keyFrameRequestDelay: 1000,
		});
		const sent = new Map<string, bigint>();
		const latencies: number[] = [];
		let received = 0;
		let receivedBytes = 0;
		const sinks: Socket[] = [];
		for (let i = 0; i < viewers; i++) {
			const sink = createSocket('udp4');
			const port = await bind(sink);
			sink.on('message', (packet) => {
				received += 1;
				receivedBytes += packet.length;
				const key = payloadKey(packet);
				const at = key ? sent.get(key) : undefined;
				if (at !== undefined && i === 0) latencies.push(Number(process.hrtime.bigint() - at) / 1e6);
			});
			const out = await router.createPlainTransport({ listenIp: '127.0.0.1', rtcpMux: true, comedia: false });
			await out.connect({ ip: '127.0.0.1', port });
			const codecs = (router.rtpCapabilities.codecs ?? []).filter((c) => c.mimeType === 'video/H264').map((c) => ({ ...c, rtcpFeedback: [] }));
			await out.consume({ producerId: producer.id, rtpCapabilities: { codecs, headerExtensions: [] } });
			sinks.push(sink);
		}

		// The relay stamps each packet as it hands it to the SFU.
		const relay = createSocket('udp4');
		const relayPort = await bind(relay);
		const toSfu = createSocket('udp4');
		await bind(toSfu);
		let packetsIn = 0;
		relay.on('message', (packet) => {
			const key = payloadKey(packet);
			if (key) sent.set(key, process.hrtime.bigint());
			packetsIn += 1;
			toSfu.send(packet, ingest.tuple.localPort, '127.0.0.1');
		});

		const sender = spawn('ffmpeg', ['-v', 'error', '-re', '-i', clip, '-t', String(seconds), '-c:v', 'copy', '-bsf:v', 'h264_mp4toannexb', '-f', 'rtp', '-payload_type', String(INGEST_RTP.video.payloadType), '-ssrc', String(INGEST_RTP.video.ssrc), `rtp://127.0.0.1:${relayPort}?pkt_size=1200`], { stdio: 'ignore' });
		const cpuStart = cpuNs(worker.pid);
		const wallStart = process.hrtime.bigint();
		await new Promise<void>((resolve) => {
			const guard = setTimeout(() => {
				sender.kill('SIGKILL');
				resolve();
			}, (seconds + 10) * 1000);
			sender.once('exit', () => {
				clearTimeout(guard);
				resolve();
			});
		});
		await new Promise((resolve) => setTimeout(resolve, 300));
		const wallSeconds = Number(process.hrtime.bigint() - wallStart) / 1e9;
		const cpuCore = (cpuNs(worker.pid) - cpuStart) / 1e9 / wallSeconds;
		const mbpsOut = (receivedBytes * 8) / wallSeconds / 1e6;
		latencies.sort((a, b) => a - b);
		const row = {
			viewers,
			packetsIn,
			packetsOut: received,
			lossPercent: packetsIn > 0 ? Math.max(0, 100 * (1 - received / (packetsIn * viewers))) : NaN,
			latencyP50Ms: percentile(latencies, 50),
			latencyP99Ms: percentile(latencies, 99),
			latencyMaxMs: latencies.at(-1) ?? NaN,
			mbpsOut,
			workerCpuPercentOfCore: 100 * cpuCore,
			workerCpuPercentPerMbps: (100 * cpuCore) / mbpsOut,
		};
		results.push(row);
		process.stdout.write(
			`viewers ${String(viewers).padStart(3)}: added latency p50 ${row.latencyP50Ms.toFixed(3)} ms, p99 ${row.latencyP99Ms.toFixed(3)} ms, max ${row.latencyMaxMs.toFixed(2)} ms; ` +
				`${mbpsOut.toFixed(1)} Mbit/s out, worker ${row.workerCpuPercentOfCore.toFixed(1)} % of a core = ${row.workerCpuPercentPerMbps.toFixed(3)} %/Mbit/s; loss ${row.lossPercent.toFixed(2)} %\n`,
		);
		relay.close();
		toSfu.close();
		for (const sink of sinks) sink.close();
		router.close();
	}
} finally {
	worker.close();
	rmSync(scratch, { recursive: true, force: true });
}
const outDir = path.join(path.dirname(new URL(import.meta.url).pathname), 'results');
mkdirSync(outDir, { recursive: true });
writeFileSync(path.join(outDir, 'ingest-latency.json'), JSON.stringify({ date: new Date().toISOString(), seconds, fps, bitrate: values.bitrate, results }, null, 2));
process.stdout.write(`written ${path.join('load-tests', 'results', 'ingest-latency.json')}\n`);
