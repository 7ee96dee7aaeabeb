/**
 * What does sampling mediasoup stats cost? One producer fed by a real ffmpeg
 * (VP8 over RTP into a PlainTransport), N consumers each on its own
 * PlainTransport sending to a UDP sink in another process, the metrics'
 * StatsSampler over all of them. Loopback only; bounded run time (~30 s).
 *
 *   npm run bench:stats [-- --consumers 100 --passes 30]
 *
 * Cost is measured directly: CPU of this process plus CPU of the mediasoup
 * worker during a burst of back-to-back sampling passes, minus the CPU the
 * same processes burn in an equal window without sampling (forwarding media),
 * divided by the passes. The share of a core is that cost per pass over the
 * sampling interval. Exits 1 when the default interval costs 2 % or more.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import * as mediasoup from 'mediasoup';
import type { types } from 'mediasoup';
import { Registry } from 'prom-client';
import { MediaObjects, RtpMetrics, StatsSampler } from '../server/metrics/index.js';
import { resolveFfmpeg } from '../server/recording/index.js';

export interface SamplingCostOptions {
	consumers: number;
	/** Sampling passes in the measured burst. */
	passes: number;
	/** The interval to express the cost at (the server's default). */
	intervalMs: number;
	/** Seconds media flows before measuring (encoder and consumers settle). */
	warmupSeconds: number;
}

export interface SamplingCostResult {
	consumers: number;
	objectsPerPass: number;
	passes: number;
	/** CPU ms per pass: this process, the worker, and their sum after subtracting the no-sampling baseline. */
	nodeMsPerPass: number;
	workerMsPerPass: number;
	msPerPass: number;
	/** Share of one core at `intervalMs`, percent. */
	percentOfCore: number;
	/** Same at a 1 s interval (ten times the default rate). */
	percentOfCoreAt1s: number;
	/** Media actually flowing: RTP bytes the consumers sent during the run. */
	bytesSent: number;
	intervalMs: number;
}

const PAYLOAD_TYPE = 101;
const SSRC = 22_222_222;

function cpuMs(usage: NodeJS.CpuUsage): number {
	return (usage.user + usage.system) / 1000;
}

async function workerCpuMs(worker: types.Worker): Promise<number> {
	const usage = await worker.getResourceUsage();
	return usage.ru_utime + usage.ru_stime;
}

/** A UDP sink in its own process, so receiving 100 streams does not count as sampling cost. */
async function startSink(): Promise<{ port: number; proc: ChildProcess }> {
	const proc = spawn(
		process.execPath,
		['-e', "const s=require('node:dgram').createSocket('udp4');s.on('message',()=>{});s.bind(0,'127.0.0.1',()=>console.log(s.address().port));"],
		{ stdio: ['ignore', 'pipe', 'inherit'] },
	);
	const port = await new Promise<number>((resolve, reject) => {
		proc.stdout.once('data', (chunk: Buffer) => resolve(Number(chunk.toString().trim())));
		proc.once('exit', (code) => reject(new Error(`UDP sink exited (${code})`)));
	});
	return { port, proc };
}

export async function measureSamplingCost(options: SamplingCostOptions): Promise<SamplingCostResult> {
	const worker = await mediasoup.createWorker({ logLevel: 'warn', rtcMinPort: 47000, rtcMaxPort: 47999 });
	let ffmpeg: ChildProcess | null = null;
	let sink: ChildProcess | null = null;
	try {
		// Everything on this worker is tracked exactly as the server tracks its workers.
		const objects = new MediaObjects();
		objects.follow(worker, 0);
		const router = await worker.createRouter({
			mediaCodecs: [{ kind: 'video', mimeType: 'video/VP8', clockRate: 90000, preferredPayloadType: PAYLOAD_TYPE }],
		});

		// Not multiplexed: ffmpeg sends RTCP from another socket than RTP, and comedia locks onto the first.
		const input = await router.createPlainTransport({ listenIp: '127.0.0.1', rtcpMux: false, comedia: true });
		const producer = await input.produce({
			kind: 'video',
			rtpParameters: {
				codecs: [{ mimeType: 'video/VP8', payloadType: PAYLOAD_TYPE, clockRate: 90000, rtcpFeedback: [{ type: 'nack' }, { type: 'nack', parameter: 'pli' }] }],
				encodings: [{ ssrc: SSRC }],
			},
		});
		const ffmpegPath = resolveFfmpeg(undefined);
		ffmpeg = spawn(
			ffmpegPath,
			[
				...['-hide_banner', '-loglevel', 'error', '-re', '-f', 'lavfi', '-i', 'testsrc=size=640x360:rate=30'],
				...['-t', '120', '-c:v', 'libvpx', '-b:v', '600k', '-deadline', 'realtime', '-cpu-used', '8', '-g', '60', '-an'],
				...['-payload_type', String(PAYLOAD_TYPE), '-ssrc', String(SSRC), '-f', 'rtp', `rtp://127.0.0.1:${input.tuple.localPort}?rtcpport=${input.rtcpTuple!.localPort}&pkt_size=1200`],
			],
			{ stdio: ['ignore', 'ignore', 'inherit'] },
		);
		const sinkProcess = await startSink();
		sink = sinkProcess.proc;

		const consumers: types.Consumer[] = [];
		for (let i = 0; i < options.consumers; i++) {
			const out = await router.createPlainTransport({ listenIp: '127.0.0.1', rtcpMux: true, comedia: false });
			await out.connect({ ip: '127.0.0.1', port: sinkProcess.port });
			consumers.push(await out.consume({ producerId: producer.id, rtpCapabilities: router.rtpCapabilities }));
		}
		await sleep(options.warmupSeconds * 1000);
		const flowing = (await producer.getStats()).reduce((sum, s) => sum + s.byteCount, 0);
		if (flowing === 0) throw new Error('no RTP reached the producer: the benchmark would measure nothing');

		const sampler = new StatsSampler(objects, new RtpMetrics(new Registry()), { intervalMs: options.intervalMs, maxObjectsPerTick: 100_000 });
		await sampler.sampleOnce(); // warm the code paths
		let objectsPerPass = 0;
		const counting = new StatsSampler(
			objects,
			{ transport: () => objectsPerPass++, producer: () => objectsPerPass++, consumer: () => objectsPerPass++, tick: () => undefined },
			{ intervalMs: options.intervalMs, maxObjectsPerTick: 100_000 },
		);
		await counting.sampleOnce();

		// Baseline: the same processes over the same wall time, media flowing, no sampling.
		const burstStart = performance.now();
		let nodeBefore = process.cpuUsage();
		let workerBefore = await workerCpuMs(worker);
		for (let i = 0; i < options.passes; i++) await sampler.sampleOnce();
		const burstWall = performance.now() - burstStart;
		const burstNode = cpuMs(process.cpuUsage(nodeBefore));
		const burstWorker = (await workerCpuMs(worker)) - workerBefore;

		nodeBefore = process.cpuUsage();
		workerBefore = await workerCpuMs(worker);
		await sleep(burstWall);
		const baseNode = cpuMs(process.cpuUsage(nodeBefore));
		const baseWorker = (await workerCpuMs(worker)) - workerBefore;

		const nodeMsPerPass = Math.max(0, burstNode - baseNode) / options.passes;
		const workerMsPerPass = Math.max(0, burstWorker - baseWorker) / options.passes;
		const msPerPass = nodeMsPerPass + workerMsPerPass;
		let bytesSent = 0;
		for (const consumer of consumers) bytesSent += (await consumer.getStats()).filter((s) => s.type === 'outbound-rtp').reduce((sum, s) => sum + s.byteCount, 0);
		sampler.close();
		return {
			consumers: options.consumers,
			objectsPerPass,
			passes: options.passes,
			nodeMsPerPass,
			workerMsPerPass,
			msPerPass,
			percentOfCore: (msPerPass / options.intervalMs) * 100,
			percentOfCoreAt1s: (msPerPass / 1000) * 100,
			bytesSent,
			intervalMs: options.intervalMs,
		};
	} finally {
		ffmpeg?.kill('SIGKILL');
		sink?.kill('SIGKILL');
		worker.close();
	}
}

function flag(name: string, fallback: number): number {
	const at = process.argv.indexOf(`--${name}`);
	return at > 0 ? Number(process.argv[at + 1]) : fallback;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
	const result = await measureSamplingCost({
		consumers: flag('consumers', 100),
		passes: flag('passes', 50),
		intervalMs: flag('interval', 10_000),
		warmupSeconds: flag('warmup', 3),
	});
	const f = (n: number, d = 2): string => n.toFixed(d);
	console.log(
		[
			`stats sampling, ${result.consumers} consumers (PlainTransports fed by ffmpeg VP8, ${f(result.bytesSent / 1e6, 1)} MB sent to them)`,
			`  objects per pass:      ${result.objectsPerPass} getStats() calls (transports, producer, consumers)`,
			`  CPU per pass:          ${f(result.msPerPass)} ms (Node ${f(result.nodeMsPerPass)} ms + mediasoup worker ${f(result.workerMsPerPass)} ms), over ${result.passes} passes`,
			`  at the ${result.intervalMs / 1000} s default:   ${f(result.percentOfCore, 3)} % of a core`,
			`  at a 1 s interval:     ${f(result.percentOfCoreAt1s, 3)} % of a core`,
			`  budget:                2 % of a core -> ${result.percentOfCore < 2 ? 'OK' : 'OVER BUDGET'}`,
		].join('\n'),
	);
	process.exit(result.percentOfCore < 2 ? 0 : 1);
}
