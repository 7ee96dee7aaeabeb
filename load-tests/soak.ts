/**
 * Soak benchmark: churn for a bounded time and watch for leaks.
 *
 *   npm run bench:soak [-- --minutes 30 --rooms 4 --sample-seconds 30]
 *
 * Runs one SFU in this process and, until the time is up, keeps cycling
 * protocol participants through rooms: join, transports, producers (RTP
 * parameters as a browser declares them), consumers of each other, leave or
 * drop (reconnect inside the grace period), plus a recording started and
 * stopped every few cycles when ffmpeg is present. Every `--sample-seconds`
 * it prints heap, RSS, open handles, mediasoup object counts and worker CPU;
 * at the end it prints the growth from the first sample after warm-up to the
 * last, and writes load-tests/results/soak.json. Loopback only; bounded.
 */
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import { pino } from 'pino';
import { loadConfig } from '../server/config/index.js';
import { SfuServer } from '../server/SfuServer.js';
import { joinWithMedia } from '../test/support/media.js';
import { mintToken, TestClient } from '../test/support/sfu.js';
import { TEST_JWT_SECRET } from '../test/support/serverProcess.js';

const { values } = parseArgs({
	options: {
		minutes: { type: 'string', default: '30' },
		rooms: { type: 'string', default: '4' },
		'sample-seconds': { type: 'string', default: '30' },
	},
});
const minutes = Math.min(240, Math.max(0.5, Number(values.minutes)));
const roomCount = Math.min(50, Math.max(1, Number(values.rooms)));
const sampleMs = Math.max(5, Number(values['sample-seconds'])) * 1000;

function workerCpuSeconds(pids: number[]): number {
	let ns = 0;
	for (const pid of pids) {
		try {
			for (const tid of readdirSync(`/proc/${pid}/task`)) ns += Number(readFileSync(`/proc/${pid}/task/${tid}/schedstat`, 'utf8').split(' ')[0]);
		} catch {
			// A worker that was replaced.
		}
	}
	return ns / 1e9;
}

const dataDir = mkdtempSync(path.join(tmpdir(), 'sfu-soak-'));
const config = loadConfig({ PORT: '0', HTTP_HOST: '127.0.0.1', JWT_SECRET: TEST_JWT_SECRET, WEBRTC_PORT: '0', DATA_DIR: dataDir, PEER_GRACE_PERIOD_MS: '2000', EMPTY_ROOM_TIMEOUT_MS: '1000', SIGNALING_REQUESTS_PER_SECOND: '1000', RECORDING_SEGMENT_SECONDS: '5', RECORDING_MIN_FREE_MB: '64', LOG_LEVEL: 'warn' });
const server = await SfuServer.start(config, pino({ level: 'warn' }));
const url = `http://127.0.0.1:${server.port}`;
const deadline = Date.now() + minutes * 60_000;
const samples: Record<string, number | string>[] = [];
let cycles = 0;
let errors = 0;

const sample = (): void => {
	const memory = process.memoryUsage();
	const counts = server.counts();
	const row = {
		atSeconds: Math.round((Date.now() - (deadline - minutes * 60_000)) / 1000),
		cycles,
		errors,
		heapMB: Math.round(memory.heapUsed / 1e5) / 10,
		rssMB: Math.round(memory.rss / 1e5) / 10,
		handles: (process as unknown as { _getActiveHandles(): unknown[] })._getActiveHandles().length,
		...counts,
		workerCpuSeconds: Math.round(workerCpuSeconds(server.pool.workers.map((w) => w.pid)) * 100) / 100,
	};
	samples.push(row);
	process.stdout.write(`${JSON.stringify(row)}\n`);
};

/** One participant's life: join, publish, consume what is there, then leave or drop. */
async function lifecycle(room: string, index: number): Promise<void> {
	const sub = `soak-${room}-${index % 3}`;
	const client = await TestClient.connect(url, { token: await mintToken({ room, role: index % 5 === 0 ? 'host' : 'clinician', sub, waitingRoom: false }) });
	try {
		const { join } = await joinWithMedia(client, { produce: ['audio', 'video'] });
		if (!join.waiting) {
			for (const peer of join.peers) for (const producer of peer.producers) await client.request('consume', { producerId: producer.id });
			if (index % 7 === 0 && server.recordings) {
				const started = await client.request('startRecording', {});
				await sleep(1500);
				if (started.ok) await client.request('stopRecording', {});
			}
		}
		await sleep(200 + (index % 5) * 100);
		// Every third participant drops instead of leaving: the grace period must clean up.
		if (index % 3 !== 0) await client.request('leave', {});
	} finally {
		client.close();
	}
}

process.stdout.write(`soak: ${minutes} min, ${roomCount} rooms, sampling every ${sampleMs / 1000} s\n`);
const sampler = setInterval(sample, sampleMs);
sample();
try {
	while (Date.now() < deadline) {
		await Promise.all(
			Array.from({ length: roomCount }, (_, r) =>
				lifecycle(`soak-room-${r}`, cycles * roomCount + r).catch(() => {
					errors += 1;
				}),
			),
		);
		cycles += 1;
	}
	await sleep(4000); // grace periods and empty-room timeouts run out
	sample();
} finally {
	clearInterval(sampler);
	await server.close();
	rmSync(dataDir, { recursive: true, force: true });
}

const first = samples[Math.min(1, samples.length - 1)]!;
const last = samples.at(-1)!;
process.stdout.write(
	`growth after warm-up: heap ${(Number(last['heapMB']) - Number(first['heapMB'])).toFixed(1)} MB, rss ${(Number(last['rssMB']) - Number(first['rssMB'])).toFixed(1)} MB, handles ${Number(last['handles']) - Number(first['handles'])}; ` +
		`at the end: rooms ${last['rooms']}, peers ${last['peers']}, transports ${last['transports']}, producers ${last['producers']}, consumers ${last['consumers']}; ${cycles} cycles, ${errors} errors\n`,
);
const outDir = path.join(path.dirname(new URL(import.meta.url).pathname), 'results');
mkdirSync(outDir, { recursive: true });
writeFileSync(path.join(outDir, 'soak.json'), JSON.stringify({ minutes, rooms: roomCount, samples }, null, 2));
