import { expect } from 'chai';
import { once } from 'node:events';
import { setTimeout as sleep } from 'node:timers/promises';
import { pino } from 'pino';
import { WorkerPool } from '../../server/media/index.js';
import { isAlive } from '../support/processes.js';

const silent = pino({ level: 'silent' });

function poolOptions(numWorkers: number, respawnDelayMs = 50) {
	return { numWorkers, logLevel: 'warn' as const, logTags: [], rtcMinPort: 42000, rtcMaxPort: 42999, respawnDelayMs };
}

describe('worker: WorkerPool', () => {
	const pools: WorkerPool[] = [];
	afterEach(async () => {
		await Promise.all(pools.splice(0).map((pool) => pool.close()));
	});

	it('starts one worker per slot, each on its own port range', async () => {
		const pool = await WorkerPool.create(poolOptions(2), silent);
		pools.push(pool);
		expect(pool.workers).to.have.length(2);
		const ranges = await Promise.all(
			pool.workers.map(async (worker) => {
				const router = await worker.createRouter({ mediaCodecs: [] });
				const transport = await router.createPlainTransport({ listenIp: { ip: '127.0.0.1' } });
				const port = transport.tuple.localPort;
				router.close();
				return port;
			}),
		);
		expect(ranges[0]).to.be.within(42000, 42499);
		expect(ranges[1]).to.be.within(42500, 42999);
	});

	it('replaces a worker killed with SIGKILL', async () => {
		const pool = await WorkerPool.create(poolOptions(2), silent);
		pools.push(pool);
		const victim = pool.workers[1]!;
		const died = once(pool, 'workerdied');
		const replaced = once(pool, 'workerreplaced');
		process.kill(victim.pid, 'SIGKILL');
		const [slot, pid] = (await died) as [number, number];
		expect([slot, pid]).to.deep.equal([1, victim.pid]);
		expect(pool.status()[1]!.pid).to.equal(null);
		const [, fresh] = (await replaced) as [number, { pid: number }];
		expect(fresh.pid).to.not.equal(victim.pid);
		expect(pool.status()[1]).to.deep.equal({ slot: 1, pid: fresh.pid, restarts: 1 });
		expect(pool.workers).to.have.length(2);
		expect(isAlive(victim.pid)).to.equal(false);
	});

	it('backs off when a slot keeps dying', async () => {
		const pool = await WorkerPool.create(poolOptions(1, 200), silent);
		pools.push(pool);
		const deaths: number[] = [];
		const replacements: number[] = [];
		pool.on('workerdied', () => deaths.push(Date.now()));
		pool.on('workerreplaced', () => replacements.push(Date.now()));
		for (let i = 0; i < 3; i++) {
			const replaced = once(pool, 'workerreplaced');
			process.kill(pool.workers[0]!.pid, 'SIGKILL');
			await replaced;
		}
		const delays = deaths.map((t, i) => replacements[i]! - t);
		// 200 ms, then 400, then 800: a crash loop cannot spin a core.
		expect(delays[1]!).to.be.greaterThan(delays[0]! + 100);
		expect(delays[2]!).to.be.greaterThan(delays[1]! + 200);
	});

	it('close() kills every worker, cancels pending respawns, and is idempotent', async () => {
		const pool = await WorkerPool.create(poolOptions(2, 300), silent);
		const pids = pool.workers.map((w) => w.pid);
		const died = once(pool, 'workerdied');
		process.kill(pids[0]!, 'SIGKILL');
		await died;
		let replaced = false;
		pool.on('workerreplaced', () => (replaced = true));
		await Promise.all([pool.close(), pool.close()]);
		expect(pool.closed).to.equal(true);
		expect(pool.workers).to.have.length(0);
		for (const pid of pids) expect(isAlive(pid)).to.equal(false);
		await sleep(500);
		expect(replaced).to.equal(false);
		expect(pool.workers).to.have.length(0);
	});
});
