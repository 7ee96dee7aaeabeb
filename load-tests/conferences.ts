/**
 * Room scenarios with protocol bots that publish and subscribe: 100
 * concurrent 1:1 consults (2 peers, audio + video each) and 20 case
 * conferences × 6 sites (6 peers, everyone consumes everyone).
 *
 *   npm run bench:conferences [-- --scenario consults|conferences|both --workers 2]
 *
 * One spawned server on loopback. Each bot speaks the real protocol: connect,
 * `join`, `setRtpCapabilities`, `createTransport` send and recv, `produce`
 * microphone (Opus) and camera (the router's first video codec) with
 * hand-built RTP parameters, then `consume` every other peer's producers in
 * its room as they appear (`producerNew`). Bots have no WebRTC stack, so no
 * RTP flows: this measures the signaling and media-state cost (producers,
 * consumers per worker, server CPU, memory) and the time until a bot has all
 * its consumers, not encoding or forwarding. All rooms arrive at once, 50
 * handshakes in flight; bounded at 120 s per scenario. Writes
 * load-tests/results/conferences.json.
 */
import { parseArgs } from 'node:util';
import { setTimeout as sleep } from 'node:timers/promises';
import type { types } from 'mediasoup';
import { startServer } from '../test/support/serverProcess.js';
import { mintToken, TestClient } from '../test/support/sfu.js';
import { metricSamples } from './lib/bots.js';
import { cpuNs, descendants, fmt, pool, rssMiB, summarize, withTimeout, writeResult } from './lib/measure.js';

const { values } = parseArgs({
	options: {
		scenario: { type: 'string', default: 'both' },
		workers: { type: 'string', default: '2' },
	},
});
const scenarios = [
	{ name: 'consults', rooms: 100, size: 2 },
	{ name: 'conferences', rooms: 20, size: 6 },
].filter((s) => values.scenario === 'both' || values.scenario === s.name);
const workerCount = Math.min(8, Math.max(1, Number(values.workers)));

let ssrc = 10_000;
function rtpParameters(caps: types.RtpCapabilities, kind: 'audio' | 'video', mid: string): Record<string, unknown> {
	const codec = caps.codecs!.find((c) => c.kind === kind && !/rtx/i.test(c.mimeType))!;
	return {
		mid,
		codecs: [
			{
				mimeType: codec.mimeType,
				payloadType: codec.preferredPayloadType,
				clockRate: codec.clockRate,
				...(codec.channels ? { channels: codec.channels } : {}),
				parameters: codec.parameters ?? {},
				rtcpFeedback: kind === 'video' ? [{ type: 'nack' }, { type: 'nack', parameter: 'pli' }] : [],
			},
		],
		headerExtensions: [],
		encodings: [{ ssrc: ++ssrc }],
		rtcp: { cname: `bot-${ssrc}`, reducedSize: true },
	};
}

interface BotTiming {
	joinMs: number;
	publishMs: number;
	allConsumersMs: number;
}

async function bot(url: string, room: string, index: number, size: number, clients: TestClient[]): Promise<BotTiming> {
	const t0 = performance.now();
	const client = await TestClient.connect(url, { token: await mintToken({ room, role: 'clinician', sub: `${room}-${index}` }) });
	clients.push(client);
	const joined = await client.ok('join', { protocolVersion: 1 });
	if (joined.waiting) throw new Error('parked in the waiting room');
	const t1 = performance.now();
	const caps = joined.routerRtpCapabilities as types.RtpCapabilities;
	await client.ok('setRtpCapabilities', { rtpCapabilities: caps as never });
	const send = await client.ok('createTransport', { direction: 'send' });
	await client.ok('createTransport', { direction: 'recv' });
	for (const [kind, source, mid] of [['audio', 'microphone', '0'], ['video', 'camera', '1']] as const) {
		await client.ok('produce', { transportId: send.id, kind, source, rtpParameters: rtpParameters(caps, kind, mid) as never });
	}
	const t2 = performance.now();
	const consumed = new Set<string>();
	const expected = (size - 1) * 2;
	const known = (): string[] => [
		...joined.peers.flatMap((p) => p.producers.map((pr) => pr.id)),
		...client.notifications.filter((n) => n.name === 'producerNew').map((n) => (n.data as { producer: { id: string } }).producer.id),
	];
	const deadline = performance.now() + 60_000;
	while (consumed.size < expected && performance.now() < deadline) {
		for (const id of known()) {
			if (consumed.has(id)) continue;
			consumed.add(id);
			const consumer = await client.ok('consume', { producerId: id });
			await client.ok('resumeConsumer', { consumerId: consumer.id });
		}
		if (consumed.size < expected) await sleep(20);
	}
	if (consumed.size < expected) throw new Error(`only ${consumed.size}/${expected} consumers`);
	return { joinMs: t1 - t0, publishMs: t2 - t1, allConsumersMs: performance.now() - t0 };
}

const results = [];
for (const scenario of scenarios) {
	const server = await startServer(
		{
			MEDIASOUP_NUM_WORKERS: String(workerCount),
			WEBRTC_LISTEN_IP: '127.0.0.1',
			LOG_LEVEL: 'info',
			ROOM_WAITING_ROOM: 'false',
			MAX_CONNECTIONS_PER_IP: '100000',
			MAX_ROOMS_PER_NODE: '10000',
			NODE_MAX_PEERS: '100000',
		},
		30_000,
	);
	const clients: TestClient[] = [];
	try {
		const pid = server.proc.pid!;
		const workers = descendants(pid, 'mediasoup-worker');
		const admin = await mintToken({ room: 'any', role: 'admin' as 'host' });
		const rss0 = { node: rssMiB(pid), workers: workers.map(rssMiB) };
		const before = [pid, ...workers].map(cpuNs);
		const t0 = performance.now();
		const peers = scenario.rooms * scenario.size;
		process.stdout.write(`${scenario.name}: ${scenario.rooms} rooms × ${scenario.size} bots (${peers} peers, audio + video each), ${workers.length} workers\n`);
		let failures = 0;
		// Members of a room adjacent, so a room fills while its first bots wait for the others.
		const jobs = Array.from({ length: peers }, (_, i) => ({ room: `${scenario.name}-${Math.floor(i / scenario.size)}`, index: i % scenario.size }));
		const timings = (
			await withTimeout(
				pool(jobs, 50, async (job) => {
					try {
						return await bot(server.baseUrl, job.room, job.index, scenario.size, clients);
					} catch (error) {
						if (failures++ < 3) process.stdout.write(`  bot failed: ${(error as Error).message}\n`);
						return null;
					}
				}),
				120_000,
				scenario.name,
			)
		).filter((t): t is BotTiming => t !== null);
		const wallMs = performance.now() - t0;
		const cpuMs = [pid, ...workers].map((p, i) => (cpuNs(p) - before[i]!) / 1e6);
		await sleep(1000);
		const metrics = await (await fetch(`${server.baseUrl}/metrics`, { headers: { authorization: `Bearer ${admin}` } })).text();
		const consumersPerWorker = metricSamples(metrics, 'sfu_worker_consumers');
		const routersPerWorker = metricSamples(metrics, 'sfu_worker_routers');
		// Idle cost of the state: CPU over 10 s with everyone in (no RTP flows).
		const idleBefore = [pid, ...workers].map(cpuNs);
		await sleep(10_000);
		const idleCores = [pid, ...workers].map((p, i) => (cpuNs(p) - idleBefore[i]!) / 1e6 / 10_000);
		const row = {
			scenario: scenario.name,
			rooms: scenario.rooms,
			size: scenario.size,
			peers,
			ok: timings.length,
			failures,
			wallMs,
			joinMs: summarize(timings.map((t) => t.joinMs)),
			publishMs: summarize(timings.map((t) => t.publishMs)),
			allConsumersMs: summarize(timings.map((t) => t.allConsumersMs)),
			consumersPerWorker,
			routersPerWorker,
			setupCpuMs: { node: cpuMs[0], workers: cpuMs.slice(1), nodePerPeer: cpuMs[0]! / peers },
			idleCoreShare: { node: idleCores[0], workers: idleCores.slice(1) },
			rssMiB: { before: rss0, after: { node: rssMiB(pid), workers: workers.map(rssMiB) } },
		};
		results.push(row);
		process.stdout.write(
			`  ${row.ok}/${peers} bots complete in ${fmt(wallMs / 1000, 1)} s, ${failures} failed\n` +
				`  join p50 ${fmt(row.joinMs.p50)} ms, p99 ${fmt(row.joinMs.p99)}; publish (2 transports + 2 producers) p50 ${fmt(row.publishMs.p50)} ms, p99 ${fmt(row.publishMs.p99)}; connect → all consumers p50 ${fmt(row.allConsumersMs.p50)} ms, p95 ${fmt(row.allConsumersMs.p95)}, p99 ${fmt(row.allConsumersMs.p99)}\n` +
				`  consumers/worker ${JSON.stringify(consumersPerWorker)}, routers/worker ${JSON.stringify(routersPerWorker)}; setup CPU node ${fmt(row.setupCpuMs.nodePerPeer, 2)} ms/peer, workers ${row.setupCpuMs.workers.map((m) => `${fmt(m, 0)} ms`).join(', ')}; ` +
				`idle node ${fmt(100 * idleCores[0]!, 1)} % of a core, workers ${idleCores.slice(1).map((c) => `${fmt(100 * c, 1)} %`).join(', ')}; RSS node ${fmt(rss0.node, 0)}→${fmt(rssMiB(pid), 0)} MiB, workers ${rss0.workers.map((r) => fmt(r, 0)).join('/')}→${workers.map((w) => fmt(rssMiB(w), 0)).join('/')} MiB\n`,
		);
	} finally {
		for (const c of clients) c.close();
		await server.stop('SIGKILL');
	}
}
process.stdout.write(`written ${writeResult('conferences.json', { date: new Date().toISOString(), results })}\n`);
process.exit(0);
