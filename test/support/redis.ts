import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { waitFor } from './processes.js';

export async function freeTcpPort(): Promise<number> {
	const server = createServer();
	await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
	const { port } = server.address() as { port: number };
	await new Promise<void>((resolve) => server.close(() => resolve()));
	return port;
}

/** A real redis-server on loopback, without persistence, in its own temp folder. */
export class TestRedis {
	readonly port: number;
	readonly url: string;
	readonly #dir = mkdtempSync(path.join(tmpdir(), 'sfu-redis-'));
	#process: ChildProcess | null = null;

	static async start(): Promise<TestRedis> {
		const redis = new TestRedis(await freeTcpPort());
		await redis.restart();
		return redis;
	}

	private constructor(port: number) {
		this.port = port;
		this.url = `redis://127.0.0.1:${port}`;
	}

	/** (Re)starts the server on the same port: an empty Redis, as after a crash without persistence. */
	async restart(): Promise<void> {
		await this.stop();
		this.#process = spawn('redis-server', ['--port', String(this.port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', this.#dir], { stdio: 'ignore' });
		await waitFor(async () => {
			try {
				const socket = await import('node:net').then((net) => net.connect(this.port, '127.0.0.1'));
				return await new Promise<boolean>((resolve) => {
					socket.once('connect', () => {
						socket.destroy();
						resolve(true);
					});
					socket.once('error', () => resolve(false));
				});
			} catch {
				return false;
			}
		}, 10_000, 'redis-server');
	}

	async stop(): Promise<void> {
		const child = this.#process;
		this.#process = null;
		if (!child || child.exitCode !== null) return;
		const exited = new Promise((resolve) => child.once('exit', resolve));
		child.kill('SIGKILL');
		await exited;
	}

	async close(): Promise<void> {
		await this.stop();
		rmSync(this.#dir, { recursive: true, force: true });
	}
}
