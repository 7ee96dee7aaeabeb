/**
 * Consults and case conferences with media bots: 100 concurrent 1:1 consults
 * (2 sites, audio + 720p video each) and 20 case conferences × 6 sites
 * (everyone sends audio + video and receives everyone else).
 *
 *   npm run bench:conferences [-- --scenario consults|conferences|both --rooms N --sites N
 *                                 --bitrate 300k --resolution 1280x720 --hold 20 --workers 2
 *                                 --bot-processes 2 --in-flight 20]
 *
 * One spawned server on loopback. Every participant is a MediaBot (see
 * lib/MediaBot.ts): the real signaling protocol plus a real WebRTC stack
 * (werift: ICE, DTLS, SRTP, RTCP, NACK, transport-cc), sending one shared
 * pre-encoded clip per bot process (H.264 Constrained Baseline + Opus,
 * `-c copy`, real-time pace, 1 s GOP) and counting what it receives. Rooms
 * arrive at once, `in-flight` handshakes at a time; then everyone holds for
 * `hold` seconds. Reports join / publish latency, time to the first key frame
 * of every remote video (what a viewer waits for a picture; bounded below by
 * the clip's 1 s GOP — the bots cannot answer a PLI), receiver loss and
 * bitrate, consumers per worker, CPU per worker, per node process and per bot
 * process over the hold, and memory. Every phase is bounded (start 180 s,
 * hold ≤ 300 s, bot processes exit by themselves after 15 min).
 * Writes load-tests/results/conferences.json.
 *
 * On a 2-core machine the bots (≈ 200 WebRTC peers) compete with the server
 * for the same cores: the bot processes' CPU is printed so a saturated run is
 * visible as such, and the default bitrate is modest (300 kbit/s; at 600 kbit/s
 * the bots alone take ≈ 1.4 cores for 100 consults and the machine saturates).
 * Raise it on a bigger box. The host's net.core.rmem_default is printed: it
 * decides whether the workers' sockets drop bursts (deploy/sysctl).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { setTimeout as sleep } from 'node:timers/promises';
import { readRmemDefault } from '../server/media/index.js';
import { startBenchServer } from './lib/benchServer.js';
import { mintToken } from '../test/support/sfu.js';
import { BotFleet, type BotSpec } from './lib/BotFleet.js';
import { metricBy, metricSamples, scrapeMetrics } from './lib/bots.js';
import { encodeClip } from './lib/MediaFeed.js';
import { formatMedia, summarizeMedia } from './lib/mediaSummary.js';
import { cpuNs, fmt, rssMiB, writeResult } from './lib/measure.js';
import type { ConferenceRun, ConferencesResult } from './lib/results.js';

const { values } = parseArgs({
	options: {
		scenario: { type: 'string', default: 'both' },
		rooms: { type: 'string' },
		sites: { type: 'string' },
		bitrate: { type: 'string', default: '300k' },
		resolution: { type: 'string', default: '1280x720' },
		hold: { type: 'string', default: '20' },
		workers: { type: 'string', default: '2' },
		'bot-processes': { type: 'string', default: '2' },
		'in-flight': { type: 'string', default: '20' },
	},
});
const clamp = (v: string | undefined, min: number, max: number, fallback: number): number => Math.min(max, Math.max(min, Number(v ?? fallback) || fallback));
const scenarios = [
	{ name: 'consults', rooms: clamp(values.rooms, 1, 500, 100), sites: clamp(values.sites, 2, 12, 2) },
	{ name: 'conferences', rooms: clamp(values.rooms, 1, 200, 20), sites: clamp(values.sites, 2, 12, 6) },
].filter((s) => values.scenario === 'both' || values.scenario === s.name);
const holdSeconds = clamp(values.hold, 3, 300, 20);
const workerCount = clamp(values.workers, 1, 8, 2);
const botProcesses = clamp(values['bot-processes'], 1, 8, 2);
const inFlight = clamp(values['in-flight'], 1, 200, 20);
const [width, height] = (values.resolution ?? '1280x720').split('x').map(Number) as [number, number];

const scratch = mkdtempSync(path.join(tmpdir(), 'sfu-bench-conf-'));
const results: ConferenceRun[] = [];
try {
	const rmemDefault = readRmemDefault();
	process.stdout.write(`host: net.core.rmem_default ${rmemDefault === null ? 'unknown' : `${Math.round(rmemDefault / 1024)} KiB`} (the receive buffer of every worker socket; see deploy/sysctl)\n`);
	process.stdout.write(`encoding the shared clip (${width}x${height}30 H.264 at ${values.bitrate}bit/s + Opus) …\n`);
	const clip = encodeClip(scratch, { width, height, fps: 30, bitrate: values.bitrate });
	for (const scenario of scenarios) {
		const peers = scenario.rooms * scenario.sites;
		const { server, pid, workers } = await startBenchServer({ MEDIASOUP_NUM_WORKERS: String(workerCount), METRICS_STATS_INTERVAL_MS: '2000', METRICS_STATS_MAX_OBJECTS: '100000' });
		let fleet: BotFleet | null = null;
		try {
			const admin = await mintToken({ room: 'any', role: 'admin' as 'host' });
			process.stdout.write(`${scenario.name}: ${scenario.rooms} rooms × ${scenario.sites} sites = ${peers} media bots (audio + video each) in ${botProcesses} processes, ${workers.length} workers\n`);
			const bots: BotSpec[] = [];
			for (let r = 0; r < scenario.rooms; r++) {
				for (let s = 0; s < scenario.sites; s++) {
					const room = `${scenario.name}-${r}`;
					bots.push({ url: server.baseUrl, token: await mintToken({ room, role: s === 0 ? 'host' : 'clinician', sub: `${room}-site-${s}`, ttl: 3600 }), publish: ['audio', 'video'], group: room });
				}
			}
			const rss0 = { node: rssMiB(pid), workers: workers.map(rssMiB) };
			const arrivalCpu = [pid, ...workers].map(cpuNs);
			const t0 = performance.now();
			fleet = await BotFleet.start({ bots, clip, processCount: botProcesses, inFlight, timeoutMs: 180_000, maxLifetimeMs: 15 * 60_000 });
			const arrivalMs = performance.now() - t0;
			const arrivalCpuMs = [pid, ...workers].map((p, i) => (cpuNs(p) - arrivalCpu[i]!) / 1e6);
			await sleep(3000);
			const tracked = [pid, ...workers, ...fleet.pids];
			const rtpView = async (): Promise<Record<string, Record<string, number>>> => {
				const text = await scrapeMetrics(server.baseUrl, admin);
				return { packets: metricBy(text, 'sfu_rtp_packets_total', ['direction', 'kind']), lost: metricBy(text, 'sfu_rtp_packets_lost_total', ['direction', 'kind']) };
			};
			const rtp0 = await rtpView();
			const holdCpu = tracked.map(cpuNs);
			const rssHold0 = { node: rssMiB(pid), workers: workers.map(rssMiB) };
			const holdStart = performance.now();
			await sleep(holdSeconds * 1000);
			const holdWallMs = performance.now() - holdStart;
			const cores = tracked.map((p, i) => (cpuNs(p) - holdCpu[i]!) / 1e6 / holdWallMs);
			await sleep(2500); // one more stats sampling pass covers the window's end
			const rtp1 = await rtpView();
			// The server's own view (mediasoup stats, sampled every 2 s): what it received from
			// publishers and sent to subscribers, and the loss each side reported, per kind.
			const serverRtp = Object.fromEntries(
				['in/audio', 'in/video', 'out/audio', 'out/video'].map((key) => {
					const packets = (rtp1['packets']![key] ?? 0) - (rtp0['packets']![key] ?? 0);
					const lost = (rtp1['lost']![key] ?? 0) - (rtp0['lost']![key] ?? 0);
					return [key, { packetsPerSecond: packets / ((holdWallMs + 2500) / 1000), lossPct: packets + lost > 0 ? (100 * lost) / (packets + lost) : NaN }];
				}),
			);
			const { bots: reports } = await fleet.report();
			const metrics = await scrapeMetrics(server.baseUrl, admin);
			const media = summarizeMedia(reports);
			const row = {
				scenario: scenario.name,
				rooms: scenario.rooms,
				sites: scenario.sites,
				peers,
				clip: { width, height, fps: 30, bitrate: values.bitrate, gopSeconds: 1 },
				host: { rmemDefault },
				arrivalMs,
				arrivalCpuMsPerPeer: { node: arrivalCpuMs[0]! / peers, workers: arrivalCpuMs.slice(1).map((ms) => ms / peers) },
				media,
				serverRtp,
				consumersPerWorker: metricSamples(metrics, 'sfu_worker_consumers'),
				routersPerWorker: metricSamples(metrics, 'sfu_worker_routers'),
				hold: {
					seconds: holdSeconds,
					nodeCoreShare: cores[0]!,
					workerCoreShare: cores.slice(1, 1 + workers.length),
					botProcessCoreShare: cores.slice(1 + workers.length),
				},
				rssMiB: { start: rss0, holdStart: rssHold0, end: { node: rssMiB(pid), workers: workers.map(rssMiB) } },
			} satisfies ConferenceRun;
			results.push(row);
			process.stdout.write(
				`  arrived in ${fmt(arrivalMs / 1000, 1)} s; node CPU ${fmt(row.arrivalCpuMsPerPeer.node, 1)} ms per peer\n` +
					formatMedia(media) +
					`  server view: ${Object.entries(serverRtp).map(([k, v]) => `${k} ${fmt(v.packetsPerSecond, 0)} pkt/s, loss ${fmt(v.lossPct, 2)} %`).join('; ')}\n` +
					`  consumers/worker ${JSON.stringify(row.consumersPerWorker)}, routers/worker ${JSON.stringify(row.routersPerWorker)}\n` +
					`  hold ${holdSeconds} s: node ${fmt(100 * cores[0]!)} % of a core, workers ${row.hold.workerCoreShare.map((c) => `${fmt(100 * c)} %`).join(', ')}, ` +
					`bot processes ${row.hold.botProcessCoreShare.map((c) => `${fmt(100 * c)} %`).join(', ')}; ` +
					`RSS node ${fmt(rss0.node, 0)}→${fmt(row.rssMiB.end.node, 0)} MiB, workers ${rss0.workers.map((r) => fmt(r, 0)).join('/')}→${row.rssMiB.end.workers.map((r) => fmt(r, 0)).join('/')} MiB\n`,
			);
		} finally {
			await fleet?.close();
			await server.stop('SIGKILL');
		}
	}
	process.stdout.write(`written ${writeResult('conferences.json', { date: new Date().toISOString(), results } satisfies ConferencesResult)}\n`);
} finally {
	rmSync(scratch, { recursive: true, force: true });
}
process.exit(0);
