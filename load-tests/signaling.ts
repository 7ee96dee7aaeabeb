/**
 * Signaling benchmark: hundreds of concurrent Socket.IO clients joining and
 * leaving rooms, Socket.IO on Node http vs on uWebSockets.js.
 *
 *   npm run bench:signaling [-- --clients 500 --room-size 10 --rounds 10 --engines node,uws --repeat 3]
 *
 * For each engine a real server process (server/main.ts, one mediasoup worker)
 * is spawned on loopback, pinned to CPU 0; this process (the clients, plain
 * socket.io-client over websocket as the SDK connects) is pinned to CPU 1, so
 * the clients do not steal the server's core. Phases, each bounded in time:
 *   connect  all clients connect with a fresh token (50 handshakes in flight)
 *   join     every client sends `join` at once (peers get `peerJoined`)
 *   burst    `rounds` times, every client sends one request at once
 *            (`pauseConsumer` on an unknown id: a full round trip through
 *            validation and the per-socket rate limiter, answered not_found)
 *   idle     one client, 200 sequential requests: the unloaded ack RTT
 *   leave    every client sends `leave` at once (peers get `peerLeft`)
 * Server CPU comes from /proc/<pid>/task/ * /schedstat of the Node process
 * (the mediasoup worker is a separate process and is reported apart).
 * Engines run interleaved `repeat` times (default 3); the summary is the
 * median over repetitions. Writes load-tests/results/signaling.json.
 */
import { parseArgs } from 'node:util';
import { setTimeout as sleep } from 'node:timers/promises';
import { freeTcpPort } from '../test/support/redis.js';
import { startBenchServer } from './lib/benchServer.js';
import { mintToken, TestClient } from '../test/support/sfu.js';
import { cpuWindow, fmt, pin, pool, rssMiB, summarize, withTimeout, writeResult } from './lib/measure.js';
import type { SignalingEngineRun as EngineResult, SignalingPhase as Phase, SignalingResult } from './lib/results.js';

const { values } = parseArgs({
	options: {
		clients: { type: 'string', default: '500' },
		'room-size': { type: 'string', default: '10' },
		rounds: { type: 'string', default: '10' },
		engines: { type: 'string', default: 'node,uws' },
		repeat: { type: 'string', default: '3' },
	},
});
const clientCount = Math.min(2000, Math.max(1, Number(values.clients)));
const roomSize = Math.min(100, Math.max(1, Number(values['room-size'])));
const rounds = Math.min(50, Math.max(1, Number(values.rounds)));
const engines = values.engines.split(',').filter((e): e is 'node' | 'uws' => e === 'node' || e === 'uws');
const repeat = Math.min(10, Math.max(1, Number(values.repeat)));
const PHASE_TIMEOUT_MS = 60_000;

pin(process.pid, '1');

async function runEngine(engine: 'node' | 'uws'): Promise<EngineResult> {
	const uwsPort = await freeTcpPort();
	const { server, pid, workers } = await startBenchServer(
		{ SIGNALING_ENGINE: engine, UWS_PORT: String(uwsPort), MAX_PEERS_PER_ROOM: String(roomSize + 10), SIGNALING_REQUESTS_PER_SECOND: '1000' },
		{ pinCore: 0 },
	);
	process.stdout.write(`  ${engine}: server pid ${pid}, mediasoup workers ${workers.join(', ') || 'none found'}\n`);
	const url = engine === 'uws' ? `http://127.0.0.1:${uwsPort}` : server.baseUrl;
	const rooms = Math.ceil(clientCount / roomSize);
	const clients: TestClient[] = [];
	const phases: Record<string, Phase> = {};
	const rssStart = rssMiB(pid);
	let rssJoined: number;

	const measure = async (name: string, ops: number, fn: () => Promise<{ latencies: number[]; errors: number }>): Promise<void> => {
		const window = cpuWindow([pid, ...workers, process.pid]);
		const { latencies, errors } = await withTimeout(fn(), PHASE_TIMEOUT_MS, `${engine} ${name}`);
		const { wallMs, cpuMs } = window.stop();
		const serverCpuMs = cpuMs[pid]!;
		const workerCpuMs = workers.reduce((sum, w) => sum + (cpuMs[w] ?? 0), 0);
		phases[name] = {
			latencyMs: summarize(latencies),
			errors,
			wallMs,
			serverCpuMs,
			workerCpuMs,
			serverCpuMsPerOp: serverCpuMs / ops,
			serverCoreShare: serverCpuMs / wallMs,
			clientCoreShare: cpuMs[process.pid]! / wallMs,
		};
		const p = phases[name];
		process.stdout.write(
			`  ${engine.padEnd(4)} ${name.padEnd(8)} ${String(ops).padStart(5)} ops in ${fmt(wallMs / 1000, 2)} s: ` +
				`latency p50 ${fmt(p.latencyMs.p50)} ms, p95 ${fmt(p.latencyMs.p95)}, p99 ${fmt(p.latencyMs.p99)}, max ${fmt(p.latencyMs.max)}; ` +
				`server ${fmt(serverCpuMs, 0)} ms CPU (${fmt(p.serverCpuMsPerOp, 3)} ms/op, ${fmt(100 * p.serverCoreShare, 0)} % of a core), worker ${fmt(workerCpuMs, 0)} ms; clients ${fmt(100 * p.clientCoreShare, 0)} % of a core; errors ${errors}\n`,
		);
	};

	try {
		const tokens = await Promise.all(
			Array.from({ length: clientCount }, (_, i) => mintToken({ room: `sig-${i % rooms}`, role: 'clinician', sub: `bench-${engine}-${i}`, name: `Bench ${i}` })),
		);
		await measure('connect', clientCount, async () => {
			const latencies: number[] = [];
			let errors = 0;
			await pool(tokens, 50, async (token) => {
				const t0 = performance.now();
				try {
					clients.push(await TestClient.connect(url, { token }));
					latencies.push(performance.now() - t0);
				} catch {
					errors++;
				}
			});
			return { latencies, errors };
		});
		await sleep(500);
		await measure('join', clients.length, async () => {
			const latencies: number[] = [];
			let errors = 0;
			await Promise.all(
				clients.map(async (client) => {
					const t0 = performance.now();
					const result = await client.request('join', { protocolVersion: 1 }, PHASE_TIMEOUT_MS).catch(() => null);
					if (result?.ok) latencies.push(performance.now() - t0);
					else errors++;
				}),
			);
			return { latencies, errors };
		});
		rssJoined = rssMiB(pid);
		await sleep(500);
		await measure('burst', clients.length * rounds, async () => {
			const latencies: number[] = [];
			let errors = 0;
			for (let round = 0; round < rounds; round++) {
				await Promise.all(
					clients.map(async (client) => {
						const t0 = performance.now();
						const result = await client.request('pauseConsumer', { consumerId: '00000000-0000-4000-8000-000000000000' }, PHASE_TIMEOUT_MS).catch(() => null);
						// not_found is the expected answer: any Result is a completed round trip.
						if (result && (result.ok || result.error.code === 'not_found')) latencies.push(performance.now() - t0);
						else errors++;
					}),
				);
			}
			return { latencies, errors };
		});
		const idle: number[] = [];
		for (let i = 0; i < 200; i++) {
			const t0 = performance.now();
			await clients[0]!.request('pauseConsumer', { consumerId: '00000000-0000-4000-8000-000000000000' });
			idle.push(performance.now() - t0);
		}
		process.stdout.write(`  ${engine.padEnd(4)} idle     ack RTT p50 ${fmt(summarize(idle).p50, 3)} ms, p99 ${fmt(summarize(idle).p99, 3)} ms\n`);
		await measure('leave', clients.length, async () => {
			const latencies: number[] = [];
			let errors = 0;
			await Promise.all(
				clients.map(async (client) => {
					const t0 = performance.now();
					const result = await client.request('leave', {}, PHASE_TIMEOUT_MS).catch(() => null);
					if (result?.ok) latencies.push(performance.now() - t0);
					else errors++;
				}),
			);
			return { latencies, errors };
		});
		return { engine, clients: clientCount, rooms, phases, idleAckRttMs: summarize(idle), serverRssMiB: { start: rssStart, joined: rssJoined, end: rssMiB(pid) } };
	} finally {
		for (const client of clients) client.close();
		await server.stop('SIGTERM', 10_000);
	}
}

process.stdout.write(`signaling: ${clientCount} clients in rooms of ${roomSize}, engines ${engines.join(', ')} × ${repeat} interleaved; server pinned to CPU 0, clients to CPU 1\n`);
const runs: EngineResult[] = [];
for (let r = 0; r < repeat; r++) for (const engine of engines) runs.push(await runEngine(engine));
const median = (xs: number[]): number => {
	const sorted = [...xs].sort((a, b) => a - b);
	return sorted.length % 2 ? sorted[(sorted.length - 1) / 2]! : (sorted[sorted.length / 2 - 1]! + sorted[sorted.length / 2]!) / 2;
};
const PHASES = ['connect', 'join', 'burst', 'leave'];
const summary = engines.map((engine) => {
	const mine = runs.filter((r) => r.engine === engine);
	const phases = Object.fromEntries(
		PHASES.map((phase) => {
			const ps = mine.map((r) => r.phases[phase]!);
			return [
				phase,
				{
					p50Ms: median(ps.map((p) => p.latencyMs.p50)),
					p99Ms: median(ps.map((p) => p.latencyMs.p99)),
					serverCpuMsPerOp: median(ps.map((p) => p.serverCpuMsPerOp)),
					serverCoreShare: median(ps.map((p) => p.serverCoreShare)),
					clientCoreShare: median(ps.map((p) => p.clientCoreShare)),
					errors: ps.reduce((sum, p) => sum + p.errors, 0),
				},
			];
		}),
	);
	return { engine, phases, idleAckRttP50Ms: median(mine.map((r) => r.idleAckRttMs.p50)), idleAckRttP99Ms: median(mine.map((r) => r.idleAckRttMs.p99)), serverRssJoinedMiB: median(mine.map((r) => r.serverRssMiB.joined)) };
});
process.stdout.write(`median of ${repeat}:\n`);
for (const e of summary) {
	for (const phase of PHASES) {
		const p = e.phases[phase]!;
		process.stdout.write(`  ${e.engine.padEnd(4)} ${phase.padEnd(8)} ack p50 ${fmt(p.p50Ms)} ms, p99 ${fmt(p.p99Ms)} ms; server ${fmt(p.serverCpuMsPerOp, 3)} ms CPU/op (${fmt(100 * p.serverCoreShare, 0)} % of a core); clients ${fmt(100 * p.clientCoreShare, 0)} %; errors ${p.errors}\n`);
	}
	process.stdout.write(`  ${e.engine.padEnd(4)} idle     ack RTT p50 ${fmt(e.idleAckRttP50Ms, 3)} ms, p99 ${fmt(e.idleAckRttP99Ms, 3)} ms; server RSS with ${clientCount} joined ${fmt(e.serverRssJoinedMiB, 0)} MiB\n`);
}
if (summary.length === 2) {
	const [a, b] = summary as [(typeof summary)[0], (typeof summary)[0]];
	process.stdout.write(`${b.engine} / ${a.engine}:`);
	for (const phase of PHASES) {
		const pa = a.phases[phase]!;
		const pb = b.phases[phase]!;
		process.stdout.write(` ${phase} CPU/op ${fmt(pb.serverCpuMsPerOp / pa.serverCpuMsPerOp, 2)}× p99 ${fmt(pb.p99Ms / pa.p99Ms, 2)}×;`);
	}
	process.stdout.write(` idle RTT p50 ${fmt(b.idleAckRttP50Ms / a.idleAckRttP50Ms, 2)}×\n`);
}
process.stdout.write(`written ${writeResult('signaling.json', { date: new Date().toISOString(), clients: clientCount, roomSize, rounds, repeat, summary, results: runs } satisfies SignalingResult)}\n`);
process.exit(0);
