import { connect, createServer, type Server, type Socket } from 'node:net';

export interface TcpProxyOptions {
	/**
	 * 'first' (default): each connection goes to the first backend that accepts it,
	 * in order. 'round-robin': to the next backend in turn — as a hospital's load
	 * balancer spreads people over nodes — skipping backends that refuse or whose
	 * `/readyz` does not answer 200 (a draining node).
	 */
	strategy?: 'first' | 'round-robin';
	/** With round-robin: how often each backend's /readyz is polled. Default 200 ms. */
	healthIntervalMs?: number;
}

/**
 * A stand-in load balancer on loopback. When a backend dies its connections
 * are cut, so clients reconnect — and land on another live backend.
 */
export class TcpProxy {
	readonly #server: Server;
	readonly #backends: number[];
	readonly #options: TcpProxyOptions;
	readonly #sockets = new Set<Socket>();
	/** Backends whose last readiness check failed (round-robin only). */
	readonly #unready = new Set<number>();
	#next = 0;
	#health: NodeJS.Timeout | null = null;
	port = 0;

	static async start(backends: number[], options: TcpProxyOptions = {}): Promise<TcpProxy> {
		const proxy = new TcpProxy(backends, options);
		await new Promise<void>((resolve) => proxy.#server.listen(0, '127.0.0.1', resolve));
		proxy.port = (proxy.#server.address() as { port: number }).port;
		if (options.strategy === 'round-robin') {
			await proxy.#checkHealth();
			proxy.#health = setInterval(() => void proxy.#checkHealth(), options.healthIntervalMs ?? 200);
		}
		return proxy;
	}

	private constructor(backends: number[], options: TcpProxyOptions) {
		this.#backends = backends;
		this.#options = options;
		this.#server = createServer((client) => {
			this.#track(client);
			client.pause();
			void this.#pipe(client, this.#order());
		});
	}

	get url(): string {
		return `http://127.0.0.1:${this.port}`;
	}

	/** Backends to try for a new connection, in order. */
	#order(): number[] {
		if (this.#options.strategy !== 'round-robin') return [...this.#backends];
		const start = this.#next++ % this.#backends.length;
		const rotated = [...this.#backends.slice(start), ...this.#backends.slice(0, start)];
		// Ready ones first; the others only if nothing is ready (better a try than a refusal).
		return [...rotated.filter((p) => !this.#unready.has(p)), ...rotated.filter((p) => this.#unready.has(p))];
	}

	async #checkHealth(): Promise<void> {
		await Promise.all(
			this.#backends.map(async (port) => {
				try {
					const response = await fetch(`http://127.0.0.1:${port}/readyz`, { signal: AbortSignal.timeout(1000) });
					if (response.ok) this.#unready.delete(port);
					else this.#unready.add(port);
				} catch {
					this.#unready.add(port);
				}
			}),
		);
	}

	async #pipe(client: Socket, candidates: number[]): Promise<void> {
		const [port, ...rest] = candidates;
		if (port === undefined) {
			client.destroy();
			return;
		}
		const upstream = connect(port, '127.0.0.1');
		let connected = false;
		upstream.once('error', () => {
			// Refused: that backend is down, try the next one.
			if (!connected) void this.#pipe(client, rest);
		});
		upstream.once('connect', () => {
			connected = true;
			this.#track(upstream);
			client.pipe(upstream).pipe(client);
			client.resume();
			const end = (): void => {
				client.destroy();
				upstream.destroy();
			};
			client.once('close', end);
			upstream.once('close', end);
			client.on('error', end);
			upstream.on('error', end);
		});
	}

	#track(socket: Socket): void {
		this.#sockets.add(socket);
		socket.once('close', () => this.#sockets.delete(socket));
	}

	async close(): Promise<void> {
		if (this.#health) clearInterval(this.#health);
		for (const socket of this.#sockets) socket.destroy();
		await new Promise<void>((resolve) => this.#server.close(() => resolve()));
	}
}
