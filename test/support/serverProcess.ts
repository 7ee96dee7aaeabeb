import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import path from 'node:path';

/** The secret test servers share with the tests that mint their tokens. */
export const TEST_JWT_SECRET = 'test-secret-0123456789abcdef';

export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

export interface LogLine {
	level: number;
	msg: string;
	module?: string;
	[key: string]: unknown;
}

/** A server process started by a test; `stop()` always leaves nothing behind. */
export interface ServerProcess {
	proc: ChildProcess;
	port: number;
	baseUrl: string;
	/** Its DATA_DIR (recordings, keys, audit): removed by stop(). */
	dataDir: string;
	logs: LogLine[];
	stderr: () => string;
	/** Resolves with the exit code once the process has exited. */
	exited: Promise<number | null>;
	/** Sends a signal and waits for exit (SIGKILL after `timeoutMs`). */
	stop(signal?: NodeJS.Signals, timeoutMs?: number): Promise<number | null>;
}

/** Runs server/main.ts with tsx, as `npm start` would run its build. */
export function runServer(
	env: Record<string, string>,
	/** Command the server runs under, e.g. ['ip', 'netns', 'exec', 'ns1'] (it must exec, keeping the pid). */
	wrapper: string[] = [],
): { proc: ChildProcess; exited: Promise<number | null>; stdout: () => string; stderr: () => string } {
	const command = [...wrapper, process.execPath, '--import', 'tsx', path.join(REPO_ROOT, 'server/main.ts')];
	const proc = spawn(command[0]!, command.slice(1), {
		cwd: REPO_ROOT,
		env: { PATH: process.env['PATH'] ?? '', HOME: process.env['HOME'] ?? '', ...env },
		stdio: ['ignore', 'pipe', 'pipe'],
	});
	let out = '';
	let err = '';
	proc.stdout.setEncoding('utf8').on('data', (chunk: string) => (out += chunk));
	proc.stderr.setEncoding('utf8').on('data', (chunk: string) => (err += chunk));
	const exited = once(proc, 'exit').then(([code]) => code as number | null);
	return { proc, exited, stdout: () => out, stderr: () => err };
}

/** Starts a server on a free port and waits until it logs "server ready". */
export async function startServer(env: Record<string, string> = {}, timeoutMs = 20_000, wrapper: string[] = []): Promise<ServerProcess> {
	const dataDir = env['DATA_DIR'] ?? mkdtempSync(path.join(tmpdir(), 'sfu-data-'));
	const run = runServer({ DATA_DIR: dataDir, PORT: '0', HTTP_HOST: '127.0.0.1', LOG_LEVEL: 'debug', JWT_SECRET: TEST_JWT_SECRET, WEBRTC_PORT: '0', ...env }, wrapper);
	const logs: LogLine[] = [];
	let buffered = '';
	let exitCode: number | null | undefined;
	void run.exited.then((code) => (exitCode = code));

	const ready = new Promise<number>((resolve, reject) => {
		const timer = setTimeout(() => reject(new Error(`server not ready in ${timeoutMs} ms; stderr: ${run.stderr()}`)), timeoutMs);
		run.proc.stdout!.on('data', (chunk: string) => {
			buffered += chunk;
			let newline: number;
			while ((newline = buffered.indexOf('\n')) >= 0) {
				const line = buffered.slice(0, newline);
				buffered = buffered.slice(newline + 1);
				try {
					const parsed = JSON.parse(line) as LogLine;
					logs.push(parsed);
					if (parsed.msg === 'server ready') {
						clearTimeout(timer);
						resolve(parsed['port'] as number);
					}
				} catch {
					// Not a log line.
				}
			}
		});
		void run.exited.then((code) => {
			clearTimeout(timer);
			reject(new Error(`server exited with ${code} before ready; stderr: ${run.stderr()}; stdout: ${run.stdout()}`));
		});
	});

	const stop = async (signal: NodeJS.Signals = 'SIGTERM', timeoutMs = 15_000): Promise<number | null> => {
		if (exitCode !== undefined) {
			rmSync(dataDir, { recursive: true, force: true });
			return exitCode;
		}
		run.proc.kill(signal);
		const timer = setTimeout(() => run.proc.kill('SIGKILL'), timeoutMs);
		const code = await run.exited;
		clearTimeout(timer);
		rmSync(dataDir, { recursive: true, force: true });
		return code;
	};

	let port: number;
	try {
		port = await ready;
	} catch (error) {
		await stop('SIGKILL');
		throw error;
	}
	return { proc: run.proc, port, baseUrl: `http://127.0.0.1:${port}`, dataDir, logs, stderr: run.stderr, exited: run.exited, stop };
}
