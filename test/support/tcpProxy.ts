import { connect, createServer, type Server, type Socket } from 'node:net';

/**
 * A stand-in load balancer on loopback: each connection goes to the first
 * backend that accepts it, in order. When a backend dies its connections are
 * cut, so clients reconnect — and land on the next live backend.
 */
export class TcpProxy {
	readonly #server: Server;
	readonly #backends: number[];
	readonly #sockets = new Set<Socket>();
	port = 0;

	static async start(backends: number[]): Promise<TcpProxy> {
		const proxy = new TcpProxy(backends);
		await new Promise<void>((resolve) => proxy.#server.listen(0, '127.0.0.1', resolve));
		proxy.port = (proxy.#server.address() as { port: number }).port;
		return proxy;
	}

	private constructor(backends: number[]) {
		this.#backends = backends;
		this.#server = createServer((client) => {
			this.#track(client);
			client.pause();
			void this.#pipe(client, 0);
		});
	}

	get url(): string {
		return `http://127.0.0.1:${this.port}`;
	}

	async #pipe(client: Socket, index: number): Promise<void> {
		const port = this.#backends[index];
		if (port === undefined) {
			client.destroy();
			return;
		}
		const upstream = connect(port, '127.0.0.1');
		let connected = false;
		upstream.once('error', () => {
			// Refused: that backend is down, try the next one.
			if (!connected) void this.#pipe(client, index + 1);
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
		for (const socket of this.#sockets) socket.destroy();
		await new Promise<void>((resolve) => this.#server.close(() => resolve()));
	}
}
