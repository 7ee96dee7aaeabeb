import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { FastifyInstance } from 'fastify';

/** What /metrics serves: the node's metrics fit. */
export interface MetricsExposition {
	exposition(): Promise<{ contentType: string; text: string }>;
}

/** `GET /metrics` on the node's HTTP port. */
export function registerMetricsRoute(app: FastifyInstance, metrics: MetricsExposition): void {
	app.get('/metrics', async (_request, reply) => {
		const { contentType, text } = await metrics.exposition();
		return reply.type(contentType).send(text);
	});
}

/**
 * `/metrics` alone on its own port (METRICS_PORT): an admin network, a
 * firewall rule away from patients. Nothing else is served there.
 */
export class MetricsEndpoint {
	readonly #server: Server;
	#closed = false;

	static async listen(host: string, port: number, metrics: MetricsExposition): Promise<MetricsEndpoint> {
		const server = createServer((request, response) => {
			if (request.method !== 'GET' || request.url?.split('?')[0] !== '/metrics') {
				response.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n');
				return;
			}
			metrics.exposition().then(
				({ contentType, text }) => response.writeHead(200, { 'content-type': contentType }).end(text),
				() => response.writeHead(500, { 'content-type': 'text/plain' }).end('metrics failed\n'),
			);
		});
		await new Promise<void>((resolve, reject) => {
			server.once('error', reject);
			server.listen(port, host, () => {
				server.off('error', reject);
				resolve();
			});
		});
		return new MetricsEndpoint(server);
	}

	private constructor(server: Server) {
		this.#server = server;
	}

	get port(): number {
		return (this.#server.address() as AddressInfo).port;
	}

	/** Stops listening and drops open connections. Idempotent. */
	close(): void {
		if (this.#closed) return;
		this.#closed = true;
		this.#server.closeAllConnections();
		this.#server.close();
	}
}
