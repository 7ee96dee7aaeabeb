import { expect } from 'chai';
import { availableParallelism } from 'node:os';
import { isAlive, processName, waitFor, workerChildren } from '../support/processes.js';
import { startServer, type ServerProcess } from '../support/serverProcess.js';

interface Health {
	status: string;
	version: string;
	uptimeSeconds: number;
	workers: { slot: number; pid: number | null; restarts: number }[];
}

async function getJson<T>(url: string): Promise<{ status: number; body: T }> {
	const response = await fetch(url);
	return { status: response.status, body: (await response.json()) as T };
}

describe('server: the SFU process', () => {
	let server: ServerProcess | null = null;
	afterEach(async () => {
		await server?.stop('SIGKILL');
		server = null;
	});

	it('starts one worker per core by default and answers /healthz and /readyz', async () => {
		server = await startServer();
		const { status, body } = await getJson<Health>(`${server.baseUrl}/healthz`);
		expect(status).to.equal(200);
		expect(body.status).to.equal('ok');
		expect(body.version).to.match(/^\d+\.\d+\.\d+/);
		expect(body.uptimeSeconds).to.be.a('number');
		expect(body.workers).to.have.length(availableParallelism());
		const pids = body.workers.map((w) => w.pid!);
		expect(pids.map(processName)).to.deep.equal(pids.map(() => 'mediasoup-worker'));
		expect(workerChildren(server.proc.pid!).sort()).to.deep.equal([...pids].sort());
		const ready = await getJson<{ ready: boolean; reasons: string[] }>(`${server.baseUrl}/readyz`);
		expect(ready).to.deep.equal({ status: 200, body: { ready: true, reasons: [] } });
	});

	it('answers unknown routes with a stable error code', async () => {
		server = await startServer({ MEDIASOUP_NUM_WORKERS: '1' });
		const { status, body } = await getJson<{ error: { code: string; message: string } }>(`${server.baseUrl}/nope`);
		expect(status).to.equal(404);
		expect(body.error.code).to.equal('not_found');
		expect(body.error.message).to.be.a('string').and.not.empty;
	});

	it('replaces a worker killed with SIGKILL and logs it', async () => {
		server = await startServer({ MEDIASOUP_NUM_WORKERS: '2', WORKER_RESPAWN_DELAY_MS: '100' });
		const before = (await getJson<Health>(`${server.baseUrl}/healthz`)).body.workers;
		const victim = before[0]!.pid!;
		process.kill(victim, 'SIGKILL');
		const after = await waitFor(
			async () => {
				const workers = (await getJson<Health>(`${server!.baseUrl}/healthz`)).body.workers;
				return workers[0]!.pid && workers[0]!.pid !== victim ? workers : null;
			},
			10_000,
			'a replacement worker',
		);
		expect(after[0]!.restarts).to.equal(1);
		expect(after[1]).to.deep.equal(before[1]);
		expect(processName(after[0]!.pid!)).to.equal('mediasoup-worker');
		expect(isAlive(victim)).to.equal(false);
		const died = server.logs.find((line) => line.msg === 'mediasoup worker died');
		expect(died?.['workerPid']).to.equal(victim);
		expect(died?.level).to.equal(50);
	});

	for (const signal of ['SIGTERM', 'SIGINT'] as const) {
		it(`${signal} closes everything and leaves no mediasoup-worker behind`, async () => {
			server = await startServer({ MEDIASOUP_NUM_WORKERS: '2' });
			const pids = workerChildren(server.proc.pid!);
			expect(pids).to.have.length(2);
			const code = await server.stop(signal);
			expect(code).to.equal(0);
			for (const pid of pids) expect(isAlive(pid)).to.equal(false, `worker ${pid} outlived the server`);
			expect(server.logs.map((l) => l.msg)).to.include.members(['shutting down', 'worker pool closed', 'closed']);
		});
	}
});
