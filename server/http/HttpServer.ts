import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import type { Logger } from '../logger/index.js';
import { installErrorHandlers } from './errors.js';
import { registerHealthRoutes, type HealthSource } from './health.js';

export interface HttpServerOptions {
	host: string;
	port: number;
	/** Largest accepted request body in bytes. Default 64 KiB. */
	bodyLimit?: number;
	/** PEM certificate and key: serve HTTPS (and so WSS for signaling). */
	tls?: { cert: string; key: string };
	/** Longest time to receive a whole request (headers and body); slower clients get 408. Default 30000 ms. */
	requestTimeoutMs?: number;
	/** Idle connections (nothing read or written) are closed after this. Default 120000 ms. */
	connectionTimeoutMs?: number;
	/** Idle keep-alive time between requests. Default 72000 ms. */
	keepAliveTimeoutMs?: number;
}

export interface HttpServerDeps {
	health: HealthSource;
}

/**
 * The HTTP face of a node: health, readiness and (in later modules) REST and
 * the demo page. Socket.IO attaches to `server`.
 */
export class HttpServer {
	readonly #app: FastifyInstance;
	readonly #logger: Logger;
	#closed = false;

	readonly #options: HttpServerOptions;

	/** Creates the server with health routes; register more, then listen(). */
	constructor(options: HttpServerOptions, deps: HttpServerDeps, logger: Logger) {
		this.#options = options;
		this.#logger = logger;
		// pino's Logger is a FastifyBaseLogger; typed as such, Fastify's generic stays the base logger.
		const baseLogger: FastifyBaseLogger = logger;
		const requestTimeout = options.requestTimeoutMs ?? 30_000;
		// Node checks request and header deadlines on a timer (30 s by default): check
		// often enough that a slowloris is cut near its deadline, not up to 30 s later.
		const deadlines = { requestTimeout, headersTimeout: requestTimeout, connectionsCheckingInterval: Math.max(250, Math.min(30_000, Math.floor(requestTimeout / 4))) };
		this.#app = Fastify({
			...(options.tls ? { https: { cert: options.tls.cert, key: options.tls.key, ...deadlines } } : { http: deadlines }),
			// Fastify's defaults leave a slow or idle client holding a socket forever.
			requestTimeout,
			connectionTimeout: options.connectionTimeoutMs ?? 120_000,
			keepAliveTimeout: options.keepAliveTimeoutMs ?? 72_000,
			loggerInstance: baseLogger,
			// Our own onResponse line replaces Fastify's two lines per request.
			logController: new LogController({ disableRequestLogging: true }),
			bodyLimit: options.bodyLimit ?? 64 * 1024,
			// Keep-alive sockets must not hold a shutdown open.
			forceCloseConnections: true,
			return503OnClosing: true,
		});
		this.#app.addHook('onResponse', async (request, reply) => {
			logger.debug(
				{ method: request.method, route: request.routeOptions.url, status: reply.statusCode, ms: Math.round(reply.elapsedTime) },
				'http request',
			);
		});
		installErrorHandlers(this.#app, logger);
		registerHealthRoutes(this.#app, deps.health);
	}

	async listen(): Promise<void> {
		await this.#app.listen({ host: this.#options.host, port: this.#options.port });
		this.#logger.info({ host: this.#options.host, port: this.port }, 'http listening');
	}

	/** The Fastify instance, for modules that register their own routes. */
	get app(): FastifyInstance {
		return this.#app;
	}

	/** Node's http.Server underneath, for Socket.IO. */
	get server(): Server {
		return this.#app.server;
	}

	get port(): number {
		return (this.#app.server.address() as AddressInfo).port;
	}

	/** Stops listening and closes open connections. Idempotent. */
	async close(): Promise<void> {
		if (this.#closed) return;
		this.#closed = true;
		await this.#app.close();
		this.#logger.info('http closed');
	}
}
