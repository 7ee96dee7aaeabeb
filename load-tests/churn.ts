/**
 * Churn: viewers joining and leaving at a set rate for a set time, then a
 * drain check that every consumer and transport they created is gone.
 *
 *   npm run bench:churn [-- --rate 20 --seconds 30 --lifetime 5 --rooms 10 [--media --bitrate 300k]]
 *
 * One real server process (server/main.ts, one mediasoup worker, loopback,
 * pinned to CPU 0; the bots in this process on CPU 1). Each of `rooms` rooms
 * has a host with a device push ingest (a producer, no RTP fed). Bots arrive
 * at `rate` per second for `seconds` seconds (Poisson arrivals), each speaks
 * the real protocol: connect, `join`, `createTransport {recv}`, `consume` the
 * room's stream, `resumeConsumer`, stays an exponentially distributed time
 * (mean `lifetime` s), then `leave` and disconnects. Reports join-to-consume
 * latency p50/p95/p99 per 5 s window and overall, server CPU, memory
 * (RSS timeline; V8 heap after a forced GC through the server's loopback
 * inspector, before and after the drain) and the consumer/transport counts from
 * /metrics after the drain (must be back to the baseline). Bounded: arrivals
 * stop after `seconds`, lifetimes are capped at 3× the mean, the drain waits
 * at most 30 s. Writes load-tests/results/churn.json.
 *
 * With `--media`, ffmpeg feeds every room's ingest (720p30 H.264 at `bitrate`,
 * `-c copy`, real time) and the arriving viewers are WebRTC MediaBots (in this
 * process, on CPU 1): the latency is then connect → first key frame received,
 * and the run adds receiver loss and bitrate — churn with real transports,
 * DTLS handshakes and consumers that carry media when they are torn down.
 */
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { setTimeout as sleep } from 'node:timers/promises';
import { startBenchServer } from './lib/benchServer.js';
import { mintToken, TestClient } from '../test/support/sfu.js';
import { metricSamples, scrapeMetrics, viewerBot, type ViewerTiming } from './lib/bots.js';
import { encodeDeviceClip, startDeviceFeed } from './lib/deviceFeed.js';
import { closeBotSockets, MediaBot } from './lib/MediaBot.js';
import { formatMedia, summarizeMedia, type BotOutcome } from './lib/mediaSummary.js';
import { freeTcpPort } from '../test/support/redis.js';
import { cpuNs, fmt, heapAfterGcMiB, pin, rssMiB, summarize, writeResult } from './lib/measure.js';
import type { ChurnResult } from './lib/results.js';

const { values } = parseArgs({
	options: {
		rate: { type: 'string', default: '20' },
		seconds: { type: 'string', default: '30' },
		lifetime: { type: 'string', default: '5' },
		rooms: { type: 'string', default: '10' },
		media: { type: 'boolean', default: false },
		bitrate: { type: 'string', default: '300k' },
	},
});
const rate = Math.min(200, Math.max(0.1, Number(values.rate)));
const seconds = Math.min(300, Math.max(2, Number(values.seconds)));
const lifetime = Math.min(60, Math.max(0.1, Number(values.lifetime)));
const roomCount = Math.min(100, Math.max(1, Number(values.rooms)));
const media = values.media === true;

pin(process.pid, '1');
const inspectorPort = await freeTcpPort();
const { server, pid, workers } = await startBenchServer(
	// The inspector (loopback) lets the drain check force a GC and read the exact heap.
	{ NODE_OPTIONS: `--inspect=127.0.0.1:${inspectorPort}`, MAX_PEERS_PER_ROOM: '1000' },
	{ pinCore: 0 },
);
const admin = await mintToken({ room: 'any', role: 'admin' as 'host' });
const metrics = async (): Promise<{ consumers: number; connections: number; peers: number; heapUsedMiB: number }> => {
	const text = await scrapeMetrics(server.baseUrl, admin);
	const sum = (name: string): number => Object.values(metricSamples(text, name)).reduce((a, b) => a + b, 0);
	return { consumers: sum('sfu_worker_consumers'), connections: sum('sfu_signaling_connections'), peers: sum('sfu_peers'), heapUsedMiB: sum('nodejs_heap_size_used_bytes') / 2 ** 20 };
};
const hosts: TestClient[] = [];
const feeds: ChildProcess[] = [];
const scratch = mkdtempSync(path.join(tmpdir(), 'sfu-bench-churn-'));
const mediaOutcomes: BotOutcome[] = [];
try {
	process.stdout.write(`churn: ${rate} joins/s for ${seconds} s, mean stay ${lifetime} s (≈ ${fmt(rate * lifetime, 0)} concurrent), ${roomCount} rooms; server pid ${pid} on CPU 0\n`);
	const producers: string[] = [];
	for (let r = 0; r < roomCount; r++) {
		const host = await TestClient.connect(server.baseUrl, { token: await mintToken({ room: `churn-${r}`, role: 'host', sub: `host-${r}` }) });
		hosts.push(host);
		await host.ok('join', { protocolVersion: 1 });
		const ingest = await host.ok('createIngest', { kinds: ['video'], srtp: false });
		producers.push(ingest.streams[0]!.producerId);
		if (media) feeds.push(startDeviceFeed(encodeDeviceClip(scratch, values.bitrate), ingest.streams[0]!, seconds + 3 * lifetime + 120));
	}
	await sleep(1000);
	const baseline = await metrics();
	const heapBaseline = await heapAfterGcMiB(inspectorPort);
	const rssBaseline = { node: rssMiB(pid), worker: workers.reduce((s, w) => s + rssMiB(w), 0) };
	const cpuStart = [pid, ...workers].map(cpuNs);
	const start = performance.now();
	const timeline: { t: number; active: number; nodeRssMiB: number; workerRssMiB: number; nodeCoreShare: number; joinP50Ms: number; joinP99Ms: number; joins: number }[] = [];
	const records: (ViewerTiming & { at: number })[] = [];
	let active = 0;
	let failures = 0;
	let arrivals = 0;
	/** Media viewers that left (short stays) before their first key frame arrived. */
	let leftBeforePicture = 0;
	const lives: Promise<void>[] = [];
	const life = async (index: number): Promise<void> => {
		const clients: TestClient[] = [];
		active++;
		try {
			const room = index % roomCount;
			const token = await mintToken({ room: `churn-${room}`, role: 'observer', sub: `churn-${index}` });
			const at = performance.now() - start;
			const stay = Math.min(3 * lifetime, -Math.log(1 - Math.random()) * lifetime);
			if (media) {
				// A WebRTC viewer: connect → first key frame of the room's device stream.
				const bot = await MediaBot.start({ url: server.baseUrl, token, publish: [], feed: null, consume: (p) => p.kind === 'video' });
				try {
					await sleep(stay * 1000);
					const report = bot.report();
					mediaOutcomes.push({ report });
					const firstKeyFrameMs = report.tracks[0]?.firstKeyFrameMs ?? null;
					if (firstKeyFrameMs === null) leftBeforePicture++;
					else records.push({ node: 'node', connectMs: report.connectMs, joinMs: report.joinMs, consumeMs: firstKeyFrameMs, totalMs: report.connectMs + report.joinMs + firstKeyFrameMs, at });
				} finally {
					await bot.close();
				}
				return;
			}
			const timing = await viewerBot(server.baseUrl, 'node', token, () => producers[room]!, clients);
			records.push({ ...timing, at });
			await sleep(stay * 1000);
			await clients[0]!.request('leave', {}, 10_000);
		} catch (error) {
			if (failures++ < 3) process.stdout.write(`  bot ${index} failed: ${(error as Error).message}\n`);
		} finally {
			for (const c of clients) c.close();
			active--;
		}
	};
	let lastWindow = performance.now();
	let lastCpu = cpuNs(pid);
	let windowStartRecord = 0;
	const sampleWindow = (): void => {
		const now = performance.now();
		const recent = records.slice(windowStartRecord);
		windowStartRecord = records.length;
		const s = summarize(recent.map((r) => r.totalMs));
		const cpu = cpuNs(pid);
		const row = {
			t: Math.round((now - start) / 1000),
			active,
			nodeRssMiB: rssMiB(pid),
			workerRssMiB: workers.reduce((sum, w) => sum + rssMiB(w), 0),
			nodeCoreShare: (cpu - lastCpu) / 1e6 / (now - lastWindow),
			joinP50Ms: s.p50,
			joinP99Ms: s.p99,
			joins: recent.length,
		};
		lastCpu = cpu;
		lastWindow = now;
		timeline.push(row);
		process.stdout.write(
			`  t=${String(row.t).padStart(3)} s: ${String(row.active).padStart(4)} active, ${String(row.joins).padStart(4)} joined (connect→consuming p50 ${fmt(row.joinP50Ms)} ms, p99 ${fmt(row.joinP99Ms)}), node ${fmt(100 * row.nodeCoreShare, 0)} % of a core, RSS node ${fmt(row.nodeRssMiB, 0)} MiB worker ${fmt(row.workerRssMiB, 0)} MiB\n`,
		);
	};
	const sampler = setInterval(sampleWindow, 5000);
	// Poisson arrivals for `seconds`, at most rate × seconds × 2 bots.
	const maxArrivals = Math.ceil(rate * seconds * 2);
	while (performance.now() - start < seconds * 1000 && arrivals < maxArrivals) {
		lives.push(life(arrivals++));
		await sleep(Math.min(5000, -Math.log(1 - Math.random()) * (1000 / rate)));
	}
	const drainStart = performance.now();
	await Promise.race([Promise.all(lives), sleep(3 * lifetime * 1000 + 30_000)]);
	clearInterval(sampler);
	sampleWindow();
	await sleep(2000);
	const wallMs = performance.now() - start;
	const cpuMs = [pid, ...workers].map((p, i) => (cpuNs(p) - cpuStart[i]!) / 1e6);
	const after = await metrics();
	const heapAfter = await heapAfterGcMiB(inspectorPort);
	const rssAfter = { node: rssMiB(pid), worker: workers.reduce((s, w) => s + rssMiB(w), 0) };
	const overall = summarize(records.map((r) => r.totalMs));
	const result = {
		date: new Date().toISOString(),
		rate,
		seconds,
		lifetime,
		rooms: roomCount,
		arrivals,
		completed: records.length,
		failures,
		drainMs: performance.now() - drainStart,
		connectToConsumingMs: overall,
		joinMs: summarize(records.map((r) => r.joinMs)),
		cpu: { nodeMs: cpuMs[0]!, workerMs: cpuMs.slice(1), nodeCoreShare: cpuMs[0]! / wallMs, nodeCpuMsPerSession: cpuMs[0]! / Math.max(1, records.length) },
		rssMiB: { baseline: rssBaseline, afterDrain: rssAfter },
		heapAfterGcMiB: { baseline: heapBaseline, afterDrain: heapAfter, perThousandSessionsKiB: ((heapAfter - heapBaseline) * 1024 * 1000) / Math.max(1, records.length) },
		objects: { baseline, afterDrain: after },
		timeline,
		media: media ? { ...summarizeMedia(mediaOutcomes), leftBeforePicture } : null,
	} satisfies ChurnResult;
	process.stdout.write(
		`  ${records.length}/${arrivals} sessions completed, ${failures} failed; connect→consuming p50 ${fmt(overall.p50)} ms, p95 ${fmt(overall.p95)}, p99 ${fmt(overall.p99)}; ` +
			`node ${fmt(result.cpu.nodeCpuMsPerSession, 2)} ms CPU per session (${fmt(100 * result.cpu.nodeCoreShare, 0)} % of a core), worker ${cpuMs.slice(1).map((m) => `${fmt(m, 0)} ms`).join(', ')}\n` +
			`  after drain: consumers ${baseline.consumers}→${after.consumers}, connections ${baseline.connections}→${after.connections}, peers ${baseline.peers}→${after.peers}; ` +
			`V8 heap after forced GC ${fmt(heapBaseline)}→${fmt(heapAfter)} MiB (${fmt(result.heapAfterGcMiB.perThousandSessionsKiB, 0)} KiB per 1000 sessions), RSS node ${fmt(rssBaseline.node, 0)}→${fmt(rssAfter.node, 0)} MiB, worker ${fmt(rssBaseline.worker, 0)}→${fmt(rssAfter.worker, 0)} MiB\n`,
	);
	if (result.media) process.stdout.write(`  WebRTC viewers (the latency above is connect → first key frame; ${leftBeforePicture} left before theirs):\n${formatMedia(result.media)}`);
	process.stdout.write(`written ${writeResult('churn.json', result)}\n`);
	if (after.consumers !== baseline.consumers || after.peers !== baseline.peers) process.stdout.write('  LEAK: media objects did not return to the baseline\n');
} finally {
	for (const h of hosts) h.close();
	for (const feed of feeds) feed.kill('SIGKILL');
	closeBotSockets();
	await server.stop('SIGTERM', 10_000);
	rmSync(scratch, { recursive: true, force: true });
}
process.exit(0);
