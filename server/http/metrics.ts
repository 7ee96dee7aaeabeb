import { createHash, timingSafeEqual } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { FastifyInstance } from 'fastify';
import type { TokenVerifier } from '../auth/index.js';
import { errorBody } from './errors.js';

/** What /metrics serves: the node's metrics fit. */
export interface MetricsExposition {
	exposition(): Promise<{ contentType: string; text: string }>;
}

/** Who may read /metrics on the public port. */
export interface MetricsAccess {
	/** `METRICS_TOKEN`: a static bearer token for Prometheus. */
	token?: string;
	/** Admin join-token verification (admins may read metrics too). */
	verifier: TokenVerifier;
}

/**
 * `GET /metrics` on the node's HTTP port, which patients reach too: only with
 * `Authorization: Bearer <METRICS_TOKEN>` or an admin token (401 otherwise).
 * Worker pids, room counts and error rates are reconnaissance for an attacker.
 */
export function registerMetricsRoute(app: FastifyInstance, metrics: MetricsExposition, access: MetricsAccess): void {
	const expected = access.token ? digest(access.token) : null;
	app.get('/metrics', async (request, reply) => {
		const bearer = /^Bearer ([A-Za-z0-9._~+/=-]+)$/.exec(request.headers.authorization ?? '')?.[1];
		let allowed = bearer !== undefined && expected !== null && timingSafeEqual(digest(bearer), expected);
		if (!allowed && bearer !== undefined) allowed = await access.verifier.verifyApi(bearer).then((claims) => claims.role === 'admin', () => false);
		if (!allowed) return reply.code(401).header('www-authenticate', 'Bearer').send(errorBody('unauthorized', 'metrics need a bearer token (METRICS_TOKEN or an admin token), or the metrics port'));
		const { contentType, text } = await metrics.exposition();
		return reply.type(contentType).send(text);
	});
}

/** Equal-length digests, so the comparison takes the same time whatever the guess. */
function digest(value: string): Buffer {
	return createHash('sha256').update(value).digest();
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
