/**
 * Grand round on a 3-node cluster: one presenter, hundreds of watch-only
 * viewer bots spread over the nodes, all on loopback.
 *
 *   npm run bench:grand-round [-- --viewers 500 --media-viewers 30 --bot-processes 1 --hold 15 --arrivals 50 --bitrate 2M]
 *
 * A real redis-server and three real server processes (server/main.ts, one
 * mediasoup worker each, clustered through Redis) are spawned. The presenter is
 * a host on node A that opens a device push ingest (`createIngest`); ffmpeg
 * replays a pre-encoded 720p30 H.264 clip (`-c copy`, real-time pace, looped)
 * into it, so real RTP enters node A's worker and is piped to B and C.
 * Viewer bots speak the real signaling protocol with socket.io-client
 * (observer tokens, round-robin over the nodes): connect, `join` (with the
 * router's capabilities as theirs), `createTransport {recv}`, `consume` the
 * presenter's stream, `resumeConsumer`. They carry no WebRTC stack, so their
 * transports never complete ICE/DTLS: the server-side consumers exist (and
 * count) but send no media to them. What is measured is therefore the
 * signaling and state cost of a 500-viewer broadcast plus the real cross-node
 * pipe forwarding. `media-viewers` of the viewers (default 30, round-robin
 * over the nodes, joining after the others) are MediaBots instead
 * (lib/MediaBot.ts: werift, real ICE/DTLS/SRTP): they receive the stream and
 * report time to the first key frame, loss and bitrate, and the nodes' own
 * RTP counters give the forwarded packet rate. Every viewer could be a media
 * bot on a bigger machine; here 500 WebRTC receivers would need more than the
 * two cores the three nodes already share.
 * Reports join and consume latency p50/p95/p99, consumers per worker (from
 * /metrics), pipes per node (/api/cluster/nodes), CPU per node process and per
 * worker over a hold window, memory growth. Writes
 * load-tests/results/grand-round.json.
 */
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { setTimeout as sleep } from 'node:timers/promises';
import { readRmemDefault } from '../server/media/index.js';
import { TestRedis } from '../test/support/redis.js';
import type { ServerProcess } from '../test/support/serverProcess.js';
import { startBenchServer } from './lib/benchServer.js';
import { mintToken, TestClient } from '../test/support/sfu.js';
import { BotFleet, type BotSpec } from './lib/BotFleet.js';
import { encodeDeviceClip, startDeviceFeed } from './lib/deviceFeed.js';
import { metricBy, metricSamples, scrapeMetrics, viewerBot, type ViewerTiming } from './lib/bots.js';
import { formatMedia, summarizeMedia, type MediaSummary } from './lib/mediaSummary.js';
import { cpuNs, fmt, pool, rssMiB, summarize, withTimeout, writeResult, type Summary } from './lib/measure.js';
import type { GrandRoundResult } from './lib/results.js';

const { values } = parseArgs({
	options: {
		viewers: { type: 'string', default: '500' },
		hold: { type: 'string', default: '15' },
		arrivals: { type: 'string', default: '50' },
		'media-viewers': { type: 'string', default: '30' },
		'bot-processes': { type: 'string', default: '1' },
		bitrate: { type: 'string', default: '2M' },
	},
});
const viewerCount = Math.min(2000, Math.max(1, Number(values.viewers)));
const holdSeconds = Math.min(120, Math.max(3, Number(values.hold)));
const inFlight = Math.min(500, Math.max(1, Number(values.arrivals)));
const mediaViewers = Math.min(viewerCount, Math.max(0, Number(values['media-viewers'])));
const signalingViewers = viewerCount - mediaViewers;
const botProcesses = Math.min(8, Math.max(1, Number(values['bot-processes'])));
const ROOM = 'grand-round-bench';

const scratch = mkdtempSync(path.join(tmpdir(), 'sfu-bench-grand-'));
const redis = await TestRedis.start();
const nodes: ServerProcess[] = [];
const clients: TestClient[] = [];
let ffmpeg: ChildProcess | null = null;
let fleet: BotFleet | null = null;
try {
	process.stdout.write(
		`grand round: 1 presenter (720p30 H.264 at ${values.bitrate}bit/s, device ingest on node A) → ${viewerCount} viewers over 3 nodes ` +
			`(${signalingViewers} signaling bots, ${inFlight} arriving at a time, then ${mediaViewers} WebRTC media bots), hold ${holdSeconds} s\n`,
	);
	const clip = encodeDeviceClip(scratch, values.bitrate);
	const admin = await mintToken({ room: 'any', role: 'admin' as 'host' });
	const nodeEnv = (id: string, rtcMin: number): Record<string, string> => ({
		NODE_ID: id,
		REDIS_URL: redis.url,
		CLUSTER_SECRET: 'cluster-secret-0123456789',
		CLUSTER_HEARTBEAT_MS: '1000',
		RTC_MIN_PORT: String(rtcMin),
		RTC_MAX_PORT: String(rtcMin + 999),
		MAX_PEERS_PER_ROOM: String(viewerCount + 10),
		METRICS_STATS_INTERVAL_MS: '2000',
		METRICS_STATS_MAX_OBJECTS: '100000',
	});
	const ids = ['node-a', 'node-b', 'node-c'];
	const started = [];
	for (const [i, id] of ids.entries()) {
		const node = await startBenchServer(nodeEnv(id, 43000 + i * 1000));
		started.push(node);
		nodes.push(node.server);
	}
	const pids = started.map((n) => n.pid);
	const workerPids = started.map((n) => n.workers);
	const rssStart = pids.map(rssMiB);
	const workerRssStart = workerPids.map((w) => w.reduce((s, pid) => s + rssMiB(pid), 0));

	// Presenter: a host on node A pushing a device stream into a broadcast room (viewers are
	// silent: no roster notification per viewer, a batched audience count instead).
	const presenter = await TestClient.connect(nodes[0]!.baseUrl, { token: await mintToken({ room: ROOM, role: 'host', sub: 'presenter', name: 'Presenter', roomType: 'broadcast' }) });
	clients.push(presenter);
	await presenter.ok('join', { protocolVersion: 1 });
	const ingest = await presenter.ok('createIngest', { kinds: ['video'], srtp: false });
	const video = ingest.streams[0]!;
	ffmpeg = startDeviceFeed(clip, video);
	await sleep(2000);

	const tokens = await Promise.all(Array.from({ length: signalingViewers }, (_, i) => mintToken({ room: ROOM, role: 'observer', sub: `viewer-${i}`, name: `Viewer ${i}` })));
	const arrivalStart = performance.now();
	const cpuArrival = [...pids, ...workerPids.flat()].map(cpuNs);
	let failures = 0;
	const timings = (
		await withTimeout(
			pool(tokens, inFlight, async (token, i) => {
				const node = i % 3;
				try {
					return await viewerBot(nodes[node]!.baseUrl, ids[node]!, token, () => video.producerId, clients);
				} catch (error) {
					if (failures++ < 3) process.stdout.write(`  viewer ${i} failed: ${(error as Error).message}\n`);
					return null;
				}
			}),
			240_000,
			'viewer arrivals',
		)
	).filter((t): t is ViewerTiming => t !== null);
	const arrivalWallMs = performance.now() - arrivalStart;
	const cpuArrivalMs = [...pids, ...workerPids.flat()].map((pid, i) => (cpuNs(pid) - cpuArrival[i]!) / 1e6);
	process.stdout.write(`  ${timings.length} viewers in ${fmt(arrivalWallMs / 1000, 1)} s, ${failures} failed\n`);

	// Media viewers last: they measure what a viewer sees with the whole audience in.
	let media: MediaSummary | null = null;
	if (mediaViewers > 0) {
		const specs: BotSpec[] = [];
		for (let i = 0; i < mediaViewers; i++) {
			const node = i % 3;
			const token = await mintToken({ room: ROOM, role: 'observer', sub: `media-viewer-${i}`, name: `Media viewer ${i}`, ttl: 3600 });
			specs.push({ url: nodes[node]!.baseUrl, token, publish: [], consumeKinds: ['video'], group: `bots-${i % botProcesses}` });
		}
		fleet = await BotFleet.start({ bots: specs, clip: null, processCount: botProcesses, inFlight: 20, timeoutMs: 180_000, maxLifetimeMs: 15 * 60_000 });
	}
	await sleep(2000);
	const rtpOut = async (): Promise<number[]> =>
		Promise.all(
			nodes.map(async (node) => {
				const text = await scrapeMetrics(node.baseUrl, admin);
				return metricBy(text, 'sfu_rtp_packets_total', ['direction', 'kind', 'transport'])['out/video/webrtc'] ?? 0;
			}),
		);
	const rtpOut0 = await rtpOut();
	// Hold: everyone watching; CPU per node process and per worker over the window.
	const holdBefore = [...pids, ...workerPids.flat()].map(cpuNs);
	const holdStart = performance.now();
	await sleep(holdSeconds * 1000);
	const holdWallMs = performance.now() - holdStart;
	const holdCpuMs = [...pids, ...workerPids.flat()].map((pid, i) => (cpuNs(pid) - holdBefore[i]!) / 1e6);
	await sleep(2500); // one more stats pass (every 2 s) covers the window's end
	const rtpOut1 = await rtpOut();
	const webrtcVideoOutPerSecond = rtpOut1.map((v, i) => (v - rtpOut0[i]!) / ((holdWallMs + 2500) / 1000));
	if (fleet) media = summarizeMedia((await fleet.report()).bots);

	const clusterView = (await (await fetch(`${nodes[0]!.baseUrl}/api/cluster/nodes`, { headers: { authorization: `Bearer ${admin}` } })).json()) as {
		nodes: { id: string; load: { peers: number; pipesIn: number; pipesOut: number } }[];
	};
	const perNode = [];
	for (const [i, node] of nodes.entries()) {
		const metrics = await scrapeMetrics(node.baseUrl, admin);
		const consumers = metricSamples(metrics, 'sfu_worker_consumers');
		const bytes = metricSamples(metrics, 'sfu_transport_bytes_total');
		const notifications = metricSamples(metrics, 'sfu_signaling_notifications_total');
		const nodeTimings = timings.filter((t) => t.node === ids[i]);
		const flat = [...pids, ...workerPids.flat()];
		const workerHold = workerPids[i]!.map((pid) => holdCpuMs[flat.indexOf(pid)]!);
		const workerArrival = workerPids[i]!.map((pid) => cpuArrivalMs[flat.indexOf(pid)]!);
		perNode.push({
			node: ids[i]!,
			viewers: nodeTimings.length,
			load: clusterView.nodes.find((n) => n.id === ids[i])?.load ?? null,
			webrtcVideoPacketsOutPerSecond: webrtcVideoOutPerSecond[i],
			consumersPerWorker: consumers,
			transportBytes: bytes,
			notificationsSent: notifications,
			arrival: { nodeCpuMs: cpuArrivalMs[i]!, workerCpuMs: workerArrival, nodeCpuMsPerViewer: cpuArrivalMs[i]! / Math.max(1, nodeTimings.length) },
			hold: {
				nodeCoreShare: holdCpuMs[i]! / holdWallMs,
				workerCoreShare: workerHold.map((ms) => ms / holdWallMs),
			},
			rssMiB: { nodeStart: rssStart[i], nodeEnd: rssMiB(pids[i]!), workerStart: workerRssStart[i], workerEnd: workerPids[i]!.reduce((s, pid) => s + rssMiB(pid), 0) },
		});
	}
	const summary = (pick: (t: ViewerTiming) => number): Summary => summarize(timings.map(pick));
	const result = {
		date: new Date().toISOString(),
		host: { rmemDefault: readRmemDefault() },
		viewers: viewerCount,
		signalingViewers,
		mediaViewers,
		joined: timings.length,
		media,
		failures,
		arrivalWallMs,
		holdSeconds,
		latencyMs: { connect: summary((t) => t.connectMs), join: summary((t) => t.joinMs), consume: summary((t) => t.consumeMs), total: summary((t) => t.totalMs) },
		perNode,
	} satisfies GrandRoundResult;
	for (const [name, s] of Object.entries(result.latencyMs)) {
		process.stdout.write(`  ${name.padEnd(8)} p50 ${fmt(s.p50)} ms, p95 ${fmt(s.p95)}, p99 ${fmt(s.p99)}, max ${fmt(s.max)}\n`);
	}
	if (media) process.stdout.write(`  media viewers (WebRTC, joined last):\n${formatMedia(media)}`);
	for (const n of perNode) {
		process.stdout.write(
			`  ${n.node}: ${n.viewers} signaling viewers, WebRTC video out ${fmt(n.webrtcVideoPacketsOutPerSecond!, 0)} pkt/s, load ${JSON.stringify(n.load)}, consumers/worker ${JSON.stringify(n.consumersPerWorker)}; ` +
				`arrival ${fmt(n.arrival.nodeCpuMsPerViewer, 2)} ms node CPU/viewer; hold: node ${fmt(100 * n.hold.nodeCoreShare)} % of a core, workers ${n.hold.workerCoreShare.map((s) => `${fmt(100 * s)} %`).join(', ')}; ` +
				`notifications ${Object.values(n.notificationsSent).reduce((a, b) => a + b, 0)} (peerJoined ${n.notificationsSent['peerJoined'] ?? 0}); RSS node ${fmt(n.rssMiB.nodeStart!, 0)}→${fmt(n.rssMiB.nodeEnd, 0)} MiB, worker ${fmt(n.rssMiB.workerStart!, 0)}→${fmt(n.rssMiB.workerEnd, 0)} MiB\n`,
		);
	}
	process.stdout.write(`written ${writeResult('grand-round.json', result)}\n`);
} finally {
	await fleet?.close();
	ffmpeg?.kill('SIGKILL');
	for (const client of clients) client.close();
	for (const node of nodes) await node.stop('SIGKILL');
	await redis.close();
	rmSync(scratch, { recursive: true, force: true });
}
process.exit(0);
