import { expect } from 'chai';
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { ConfigError, loadConfig } from '../../server/config/index.js';
import { isAlive, waitFor } from '../support/processes.js';
import { REPO_ROOT, TEST_JWT_SECRET } from '../support/serverProcess.js';
import { mintToken, TestClient } from '../support/sfu.js';

/** `npm start` as a supervisor runs it: in its own process group, so the test can see (and clean up) everything it started. */
interface NpmStart {
	npm: ChildProcess;
	port: number;
	logs: Record<string, unknown>[];
	exited: Promise<number | null>;
	dataDir: string;
}

async function npmStart(env: Record<string, string>): Promise<NpmStart> {
	const dataDir = mkdtempSync(path.join(tmpdir(), 'sfu-npm-start-'));
	const npm = spawn('npm', ['start', '--silent'], {
		cwd: REPO_ROOT,
		env: { PATH: process.env['PATH'] ?? '', HOME: process.env['HOME'] ?? '', DATA_DIR: dataDir, PORT: '0', WEBRTC_PORT: '0', MEDIASOUP_NUM_WORKERS: '1', LOG_LEVEL: 'info', ...env },
		stdio: ['ignore', 'pipe', 'pipe'],
		detached: true,
	});
	const exited = once(npm, 'exit').then(([code]) => code as number | null);
	const logs: Record<string, unknown>[] = [];
	let stderr = '';
	npm.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
	let buffered = '';
	npm.stdout.setEncoding('utf8').on('data', (chunk: string) => {
		buffered += chunk;
		let newline: number;
		while ((newline = buffered.indexOf('\n')) >= 0) {
			const line = buffered.slice(0, newline);
			buffered = buffered.slice(newline + 1);
			try {
				logs.push(JSON.parse(line) as Record<string, unknown>);
			} catch {
				// npm's own lines.
			}
		}
	});
	try {
		// Setup runs first: fast when node_modules, the worker and the build are in place, but this machine is shared.
		const ready = await Promise.race([
			waitFor(() => logs.find((l) => l['msg'] === 'server ready'), 240_000, '"server ready" from npm start'),
			exited.then((code) => {
				throw new Error(`npm start exited with ${code}: ${stderr.slice(-2000)}`);
			}),
		]);
		return { npm, port: ready['port'] as number, logs, exited, dataDir };
	} catch (error) {
		killGroup(npm.pid!);
		rmSync(dataDir, { recursive: true, force: true });
		throw error;
	}
}

/** Live (non-zombie) processes of a process group, with their command lines. */
function groupMembers(pgid: number): { pid: number; cmdline: string }[] {
	const members: { pid: number; cmdline: string }[] = [];
	for (const entry of readdirSync('/proc')) {
		if (!/^\d+$/.test(entry)) continue;
		try {
			const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
			const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
			// Fields after the name: state, ppid, pgrp.
			if (Number(fields[2]) !== pgid || fields[0] === 'Z') continue;
			members.push({ pid: Number(entry), cmdline: readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0').join(' ').trim() });
		} catch {
			// Gone meanwhile.
		}
	}
	return members;
}

/** Cleanup whatever happened: only the group this test started. */
function killGroup(pgid: number): void {
	try {
		process.kill(-pgid, 'SIGKILL');
	} catch {
		// Already gone.
	}
}

describe('server: npm start under a supervisor', function () {
	this.timeout(400_000);

	it('a bare npm start is a demo on loopback; SIGTERM to the npm process stops the server and its mediasoup workers (the start script execs the server)', async () => {
		const run = await npmStart({});
		const pgid = run.npm.pid!;
		try {
			expect(run.logs.find((l) => l['msg'] === 'http listening')?.['host']).to.equal('127.0.0.1');
			expect((await fetch(`http://127.0.0.1:${run.port}/api/dev/token?room=demo-room&role=host`)).status).to.equal(200);

			const members = groupMembers(pgid);
			const server = members.find((m) => m.cmdline.includes('dist/server/main.js'));
			const workers = members.filter((m) => m.cmdline.includes('mediasoup-worker'));
			expect(server, JSON.stringify(members)).to.not.equal(undefined);
			expect(workers).to.have.length(1);
			// No shell stands between npm and the server: the script became it.
			expect(members.some((m) => /scripts\/start\.sh/.test(m.cmdline))).to.equal(false, JSON.stringify(members));

			process.kill(run.npm.pid!, 'SIGTERM');
			await waitFor(async () => (await Promise.race([run.exited.then(() => true), new Promise((resolve) => setTimeout(() => resolve(false), 100))])) as boolean, 30_000, 'npm to exit');
			await waitFor(() => groupMembers(pgid).length === 0, 30_000, 'every process of npm start to exit');
			expect(isAlive(server!.pid)).to.equal(false);
			for (const worker of workers) expect(isAlive(worker.pid)).to.equal(false);
			expect(run.logs.map((l) => l['msg'])).to.include.members(['shutting down', 'closed']);
		} finally {
			killGroup(pgid);
			rmSync(run.dataDir, { recursive: true, force: true });
		}
	});

	it('with JWT_SECRET set and DEMO unset, npm start serves no dev tokens', async () => {
		const production = await npmStart({ JWT_SECRET: TEST_JWT_SECRET, HTTP_HOST: '127.0.0.1' });
		try {
			const token = await fetch(`http://127.0.0.1:${production.port}/api/dev/token?room=demo-room&role=host`);
			expect(token.status).to.equal(404);
			expect(((await token.json()) as { error: { code: string } }).error.code).to.equal('not_found');
			// Portal tokens work as always.
			const client = await TestClient.connect(`http://127.0.0.1:${production.port}`, { token: await mintToken({ room: 'prod-room', role: 'clinician' }) });
			client.close();
		} finally {
			process.kill(production.npm.pid!, 'SIGTERM');
			await Promise.race([production.exited, new Promise((resolve) => setTimeout(resolve, 30_000))]);
			killGroup(production.npm.pid!);
			rmSync(production.dataDir, { recursive: true, force: true });
		}
	});

	it('demo mode refuses a non-loopback HTTP_HOST unless DEMO_PUBLIC=1', () => {
		expect(loadConfig({ DEMO: '1' }).http.host).to.equal('127.0.0.1');
		expect(loadConfig({ DEMO: '1', HTTP_HOST: '::1' }).http.host).to.equal('::1');
		let error: unknown;
		try {
			loadConfig({ DEMO: '1', HTTP_HOST: '0.0.0.0' });
		} catch (caught) {
			error = caught;
		}
		expect(error).to.be.instanceOf(ConfigError);
		expect((error as ConfigError).setting).to.equal('HTTP_HOST');
		expect(loadConfig({ DEMO: '1', DEMO_PUBLIC: '1', HTTP_HOST: '0.0.0.0' }).http.host).to.equal('0.0.0.0');
		// Without demo mode nothing changes.
		expect(loadConfig({ JWT_SECRET: TEST_JWT_SECRET }).http.host).to.equal('0.0.0.0');
	});
});
