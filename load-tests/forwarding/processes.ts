/**
 * Everything the forwarding benchmark starts is registered here, so that a
 * normal end, an error or SIGINT/SIGTERM all stop the same processes (by pid,
 * SIGTERM then SIGKILL) and remove the same temp files.
 */
import { spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { withParentDeath } from '../lib/measure.js';

const children = new Set<ChildProcess>();
const tempDirs = new Set<string>();
const closers = new Set<() => Promise<void>>();

const exited = (child: ChildProcess): boolean => child.exitCode !== null || child.signalCode !== null;

/**
 * Spawns a child process that cleanup() will stop, optionally pinned with
 * taskset -c; through setpriv --pdeathsig it also gets SIGTERM if this
 * process dies without cleaning up. Both exec, so the pid is the program's.
 */
export function spawnTracked(command: string, args: string[], options: SpawnOptions & { cpus?: string } = {}): ChildProcess {
	const { cpus, ...spawnOptions } = options;
	const argv = [...(cpus ? ['taskset', '-c', cpus] : []), ...withParentDeath(command, args, 'TERM')];
	const child = spawn(argv[0]!, argv.slice(1), spawnOptions);
	children.add(child);
	child.once('exit', () => children.delete(child));
	child.once('error', () => children.delete(child));
	return child;
}

/** Waits until the child exits (true) or the time is up (false). */
export function waitExit(child: ChildProcess, ms: number): Promise<boolean> {
	if (exited(child)) return Promise.resolve(true);
	return new Promise((resolve) => {
		const timer = setTimeout(() => {
			child.off('exit', onExit);
			resolve(false);
		}, ms);
		const onExit = (): void => {
			clearTimeout(timer);
			resolve(true);
		};
		child.once('exit', onExit);
	});
}

/** SIGTERM, then SIGKILL after graceMs; resolves once the process is gone. */
export async function stopChild(child: ChildProcess, graceMs = 3000): Promise<void> {
	if (exited(child) || child.pid === undefined) return;
	child.kill('SIGTERM');
	if (await waitExit(child, graceMs)) return;
	child.kill('SIGKILL');
	await waitExit(child, 2000);
}

/** The first stdout line of a child (e.g. the port it bound), within ms. */
export function firstLine(child: ChildProcess, ms: number, what: string): Promise<string> {
	return new Promise((resolve, reject) => {
		let buffered = '';
		const timer = setTimeout(() => finish(new Error(`${what}: no output within ${ms} ms`)), ms);
		const onData = (chunk: Buffer): void => {
			buffered += chunk.toString();
			const newline = buffered.indexOf('\n');
			if (newline >= 0) finish(null, buffered.slice(0, newline).trim());
		};
		const onExit = (code: number | null): void => finish(new Error(`${what}: exited (${code}) before printing anything`));
		const finish = (error: Error | null, line?: string): void => {
			clearTimeout(timer);
			child.stdout?.off('data', onData);
			child.off('exit', onExit);
			if (error) reject(error);
			else resolve(line!);
		};
		child.stdout?.on('data', onData);
		child.once('exit', onExit);
	});
}

/** A temp directory (named after this pid) that cleanup() removes. */
export function tempDir(prefix: string): string {
	const dir = mkdtempSync(path.join(tmpdir(), `${prefix}${process.pid}-`));
	tempDirs.add(dir);
	return dir;
}

/** Removes temp dirs left by an earlier run that was SIGKILLed (its pid is gone). */
export function removeStaleTempDirs(prefix: string): void {
	for (const entry of readdirSync(tmpdir())) {
		const match = entry.startsWith(prefix) ? /-(\d+)-[^-]+$/.exec(entry) : null;
		if (!match) continue;
		let alive = true;
		try {
			process.kill(Number(match[1]), 0);
		} catch {
			alive = false;
		}
		if (!alive) rmSync(path.join(tmpdir(), entry), { recursive: true, force: true });
	}
}

export function removeTempDir(dir: string): void {
	rmSync(dir, { recursive: true, force: true });
	tempDirs.delete(dir);
}

/** Registers an async close (a worker pool, a Janus session…); returns its unregister function. */
export function onCleanup(close: () => Promise<void>): () => void {
	closers.add(close);
	return () => closers.delete(close);
}

/** A TCP port free on 127.0.0.1 right now. */
export function freeTcpPort(): Promise<number> {
	return new Promise((resolve, reject) => {
		const server = createServer();
		server.once('error', reject);
		server.listen(0, '127.0.0.1', () => {
			const address = server.address();
			server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))));
		});
	});
}

/** Stops everything registered: closers first (bounded), then child processes, then temp dirs. */
export async function cleanup(): Promise<void> {
	for (const close of [...closers]) {
		closers.delete(close);
		await Promise.race([close().catch(() => undefined), sleep(5000)]);
	}
	await Promise.all([...children].map((child) => stopChild(child, 2000)));
	for (const dir of [...tempDirs]) removeTempDir(dir);
}

/**
 * On SIGINT / SIGTERM: clean up and exit 130 / 143. A repeated signal within 2 s is
 * ignored (Ctrl-C reaches us both from the terminal and relayed by tsx); a later one
 * exits at once.
 */
export function cleanupOnSignals(log: (line: string) => void): void {
	let stoppingSince = 0;
	for (const signal of ['SIGINT', 'SIGTERM'] as const) {
		process.on(signal, () => {
			if (stoppingSince) {
				if (Date.now() - stoppingSince > 2000) process.exit(1);
				return;
			}
			stoppingSince = Date.now();
			log(`\n${signal}: stopping every process the benchmark started and removing its temp files…`);
			const timer = setTimeout(() => process.exit(1), 15_000);
			void cleanup().finally(() => {
				clearTimeout(timer);
				process.exit(signal === 'SIGINT' ? 130 : 143);
			});
		});
	}
}
