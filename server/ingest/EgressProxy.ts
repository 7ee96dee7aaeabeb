import { EventEmitter } from 'node:events';
import { createServer, request as httpRequest, type IncomingMessage, type OutgoingHttpHeaders, type Server, type ServerResponse } from 'node:http';
import { connect, type Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { SfuError } from '../protocol/index.js';
import type { EgressPolicy } from './EgressPolicy.js';

export type EgressProxyEvents = {
	/** A connection the policy refused (e.g. a redirect or playlist entry pointing inside). */
	refused: [code: 'source_forbidden' | 'source_unreachable'];
};

/** Headers that belong to one hop, not to the request being forwarded (RFC 9110 §7.6.1). */
const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'proxy-authorization', 'proxy-authenticate', 'te', 'trailer', 'transfer-encoding', 'upgrade']);

/**
 * A forward HTTP proxy on loopback for one pulled source's ffmpeg (its
 * `http_proxy`): every connection ffmpeg makes over HTTP — the source, each
 * redirect, each HLS playlist, segment and key, and TLS tunnels (CONNECT, for
 * https and rtsps) — is checked against the egress policy and opened to the
 * checked address, while the request keeps its Host header and TLS its SNI
 * (the tunnel is end to end). One per PullIngest, so a refusal is that
 * source's. close() drops the listener and every open connection.
 */
export class EgressProxy extends EventEmitter<EgressProxyEvents> {
	readonly #policy: EgressPolicy;
	readonly #server: Server;
	readonly #sockets = new Set<Duplex>();
	#url: string | null = null;
	#closed = false;

	constructor(policy: EgressPolicy) {
		super();
		this.#policy = policy;
		this.#server = createServer((req, res) => void this.#forward(req, res));
		this.#server.on('connect', (req: IncomingMessage, socket: Duplex, head: Buffer) => void this.#tunnel(req, socket, head));
		this.#server.on('connection', (socket: Socket) => this.#track(socket));
	}

	/** The proxy URL for ffmpeg's `http_proxy` (listens on first use). */
	async url(): Promise<string> {
		if (this.#url) return this.#url;
		if (this.#closed) throw new SfuError('invalid_state', 'the egress proxy is closed');
		await new Promise<void>((resolve, reject) => {
			this.#server.once('error', reject);
			this.#server.listen(0, '127.0.0.1', () => {
				this.#server.off('error', reject);
				resolve();
			});
		});
		const address = this.#server.address();
		if (!address || typeof address === 'string') throw new Error('egress proxy has no port');
		this.#url = `http://127.0.0.1:${address.port}`;
		return this.#url;
	}

	close(): void {
		if (this.#closed) return;
		this.#closed = true;
		this.#server.close();
		for (const socket of this.#sockets) socket.destroy();
		this.#sockets.clear();
	}

	async #forward(req: IncomingMessage, res: ServerResponse): Promise<void> {
		let target: URL;
		try {
			target = new URL(req.url ?? '');
		} catch {
			target = new URL('invalid:');
		}
		if (target.protocol !== 'http:') {
			res.writeHead(400, { connection: 'close' }).end();
			return;
		}
		const address = await this.#check(target.hostname);
		if (!address) {
			res.writeHead(403, { connection: 'close' }).end();
			return;
		}
		const headers: OutgoingHttpHeaders = {};
		for (const [name, value] of Object.entries(req.headers)) if (!HOP_BY_HOP.has(name) && value !== undefined) headers[name] = value;
		headers['host'] = target.host;
		const upstream = httpRequest({ host: address, port: target.port || 80, method: req.method, path: `${target.pathname}${target.search}`, headers, agent: false, setHost: false }, (answer) => {
			const back: OutgoingHttpHeaders = {};
			for (const [name, value] of Object.entries(answer.headers)) if (!HOP_BY_HOP.has(name) && value !== undefined) back[name] = value;
			res.writeHead(answer.statusCode ?? 502, back);
			answer.pipe(res);
		});
		upstream.once('socket', (socket) => this.#track(socket));
		upstream.on('error', () => {
			if (!res.headersSent) res.writeHead(502, { connection: 'close' });
			res.end();
		});
		res.on('close', () => upstream.destroy());
		req.pipe(upstream);
	}

	async #tunnel(req: IncomingMessage, client: Duplex, head: Buffer): Promise<void> {
		this.#track(client);
		client.on('error', () => client.destroy());
		let target: URL | null;
		try {
			target = new URL(`http://${req.url ?? ''}`);
		} catch {
			target = null;
		}
		if (!target || !target.port || target.pathname !== '/' || target.username) {
			client.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
			return;
		}
		const address = await this.#check(target.hostname);
		if (!address || this.#closed) {
			client.end('HTTP/1.1 403 Forbidden\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
			return;
		}
		const upstream = connect({ host: address, port: Number(target.port) });
		this.#track(upstream);
		upstream.once('connect', () => {
			client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
			if (head.length > 0) upstream.write(head);
			upstream.pipe(client);
			client.pipe(upstream);
		});
		upstream.on('error', () => {
			if (!client.destroyed) client.end('HTTP/1.1 502 Bad Gateway\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
			upstream.destroy();
		});
		upstream.on('close', () => client.destroy());
		client.on('close', () => upstream.destroy());
	}

	/** The checked address, or null (and `refused` emitted). */
	async #check(hostname: string): Promise<string | null> {
		try {
			return await this.#policy.check(hostname);
		} catch (error) {
			this.emit('refused', error instanceof SfuError && error.code === 'source_unreachable' ? 'source_unreachable' : 'source_forbidden');
			return null;
		}
	}

	#track(socket: Duplex): Duplex {
		if (this.#closed) {
			socket.destroy();
			return socket;
		}
		this.#sockets.add(socket);
		socket.once('close', () => this.#sockets.delete(socket));
		return socket;
	}
}
