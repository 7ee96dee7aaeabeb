import type { Server as HttpServer } from 'node:http';
import path from 'node:path';
import { createAdapter } from '@socket.io/redis-streams-adapter';
import type { Redis } from 'ioredis';
import { Server } from 'socket.io';
import { RateLimiterMemory } from 'rate-limiter-flexible';
import { AuthError, type TokenVerifier } from '../auth/index.js';
import { SfuError, HandshakeAuthSchema, type ClientToServerEvents, type NotificationName, type ServerToClientEvents, type TransportParams } from '../protocol/index.js';
import type { Logger } from '../logger/index.js';
import type { IngestService } from '../ingest/index.js';
import type { RecordingService } from '../recording/index.js';
import type { RoomControl, RoomRegistry } from '../rooms/index.js';
import { SignalingObserver } from './observer.js';
import { SignalingSession } from './SignalingSession.js';
import type { SfuSocket, SocketData } from './types.js';
import { listenUws, loadNativeUws, type UwsListener } from './uwsEngine.js';
import { ConnectionGuard, type EngineSession } from './ConnectionGuard.js';

export interface SignalingOptions {
	/** Largest message, bytes; larger ones close the connection. */
	maxPayloadBytes: number;
	/** Requests per second per socket (bursts up to twice that). */
	requestsPerSecond: number;
	/** Allowed browser origins; empty allows any. */
	corsOrigins: string[];
	/** Connections one IP address may hold at once, counted before authentication. Default: unlimited. */
	maxConnectionsPerIp?: number;
	/** Connections, from all addresses, that have not authenticated yet. Default 1000. */
	maxUnauthenticated?: number;
	/** A connection that has not authenticated this long after it opened is closed. Default 10000 ms. */
	handshakeTimeoutMs?: number;
	/** Waiting-room default for new rooms. */
	defaultWaitingRoom: boolean;
	/** Heartbeat: a dead link is noticed after about interval + timeout. Default 5 s + 8 s. */
	pingIntervalMs?: number;
	pingTimeoutMs?: number;
	iceServers?: () => TransportParams['iceServers'];
}

export interface SignalingDeps {
	rooms: RoomRegistry;
	/** Host actions on participants, wherever they are connected. */
	control: RoomControl;
	recordings: RecordingService | null;
	ingest: IngestService;
	verifier: TokenVerifier;
}

/** How long a draining node waits for clients to leave on the notice before dropping their transports. */
const DRAIN_DROP_AFTER_MS = 2000;

type IoServer = Server<ClientToServerEvents, ServerToClientEvents, Record<string, never>, SocketData>;

/**
 * Socket.IO signaling: authenticates each connection's join token during the
 * handshake (refusals carry `{ code, message }` in connect_error's `data`),
 * then gives each socket a SignalingSession.
 */
export class SignalingServer {
	readonly io: IoServer;
	/** Requests answered and connections refused, for monitors (metrics). */
	readonly observer = new SignalingObserver();
	readonly #logger: Logger;
	readonly #guard: ConnectionGuard;
	#uws: UwsListener | null = null;
	#adapterRedis: Redis | null = null;
	#draining = false;
	#dropTimer: NodeJS.Timeout | null = null;
	#closed = false;

	constructor(options: SignalingOptions, deps: SignalingDeps, logger: Logger) {
		this.#logger = logger;
		const handshakeTimeoutMs = options.handshakeTimeoutMs ?? 10_000;
		this.#guard = new ConnectionGuard({
			maxPerAddress: options.maxConnectionsPerIp ?? Infinity,
			maxUnauthenticated: options.maxUnauthenticated ?? 1000,
			handshakeTimeoutMs,
		});
		this.#guard.on('refused', (code, address) => {
			this.#logger.debug({ code }, 'connection refused before the handshake');
			this.observer.emit('refused', code, { address });
		});
		this.io = new Server({
			path: '/socket.io',
			serveClient: false,
			// Sessions are counted (per address, unauthenticated) before anything else runs.
			allowRequest: this.#guard.allowRequest,
			// Socket.IO's own deadline for a session that never asks to connect; ours covers refused ones too.
			connectTimeout: handshakeTimeoutMs,
			maxHttpBufferSize: options.maxPayloadBytes,
			// A dead link must be noticed well inside the 30 s grace period.
			pingInterval: options.pingIntervalMs ?? 5_000,
			pingTimeout: options.pingTimeoutMs ?? 8_000,
			cors: { origin: options.corsOrigins.length > 0 ? options.corsOrigins : true, credentials: false },
		});
		const rateLimiter = new RateLimiterMemory({ points: options.requestsPerSecond * 2, duration: 2 });

		this.io.use((socket, next) => {
			const auth = HandshakeAuthSchema.safeParse(socket.handshake.auth);
			const refuse = (error: SfuError): void => {
				// Debug, not info: strangers would otherwise grow the logs one line per garbage token.
				// Refusals are counted in metrics and (bounded) on the audit trail.
				this.#logger.debug({ code: error.code }, 'connection refused');
				this.observer.emit('refused', error.code, { ...(auth.success && auth.data.room ? { room: auth.data.room } : {}), address: socket.handshake.address });
				next(Object.assign(new Error(error.message), { data: { code: error.code, message: error.message } }));
			};
			if (this.#draining) {
				// The client retries through the signaling address and reaches another node.
				refuse(new SfuError('unavailable', 'this node is shutting down; connect again to reach another node'));
				return;
			}
			if (!auth.success) {
				const missing = !socket.handshake.auth || typeof (socket.handshake.auth as { token?: unknown }).token !== 'string';
				refuse(new AuthError(missing ? 'auth_missing_token' : 'auth_invalid_token', missing ? 'a join token is required' : 'the handshake auth is malformed'));
				return;
			}
			deps.verifier.verify(auth.data.token, auth.data.room).then(
				(claims) => {
					socket.data.claims = claims;
					next();
				},
				(error: unknown) => {
					if (error instanceof AuthError) refuse(error);
					else {
						this.#logger.error({ err: error }, 'token verification failed unexpectedly');
						refuse(new AuthError('auth_invalid_token', 'the token could not be verified'));
					}
				},
			);
		});

		this.io.on('connection', (socket: SfuSocket) => {
			const claims = socket.data.claims;
			this.#guard.authenticated(socket.conn.request);
			this.observer.emit('connection');
			socket.once('disconnect', (reason) => {
				this.observer.emit('disconnect', reason);
			});
			// Counting every outgoing message costs a callback each: only when someone watches.
			if (this.observer.listenerCount('notification') > 0) {
				socket.onAnyOutgoing((name: unknown) => {
					if (typeof name === 'string') this.observer.emit('notification', name as NotificationName);
				});
			}
			new SignalingSession(socket, {
				rooms: deps.rooms,
				control: deps.control,
				recordings: deps.recordings,
				ingest: deps.ingest,
				verifier: deps.verifier,
				rateLimiter,
				defaultWaitingRoom: options.defaultWaitingRoom,
				iceServers: options.iceServers ?? (() => []),
				observer: this.observer,
				logger: this.#logger.child({ socketId: socket.id, roomId: claims.room }),
			});
		});
	}

	/** Serves Socket.IO on Node's http server (the default engine). */
	attach(server: HttpServer): void {
		this.io.attach(server);
		this.#watchSessions();
	}

	/** Every Engine.IO session is adopted by the guard that admitted its request. */
	#watchSessions(): void {
		this.io.engine.on('connection', (session: EngineSession) => this.#guard.adopt(session));
	}

	/**
	 * Serves Socket.IO on uWebSockets.js, on its own port: cheaper per message
	 * than Node's http server (see docs and load-tests/ for the numbers).
	 */
	async attachUws(host: string, port: number): Promise<number> {
		const native = loadNativeUws();
		const listener = await listenUws(native, host, port);
		this.io.attachApp(listener.app);
		this.#watchSessions();
		this.#uws = listener;
		this.#logger.info({ port: listener.port, binary: path.basename(native.binaryPath) }, 'signaling on uWebSockets.js');
		return listener.port;
	}

	/**
	 * Socket.IO's Redis streams adapter: broadcasts and server-side events
	 * reach the sockets of every node. Takes ownership of `client` (closed
	 * with the server).
	 */
	useRedisAdapter(client: Redis): void {
		this.io.adapter(createAdapter(client, { streamName: 'sfu:signaling' }));
		this.#adapterRedis = client;
	}

	/** The uWebSockets.js port, or null on the default engine. */
	get uwsPort(): number | null {
		return this.#uws?.port ?? null;
	}

	/** Number of connected sockets. */
	get connections(): number {
		return this.io.engine?.clientsCount ?? 0;
	}

	/**
	 * This node is shutting down while the cluster goes on (a rolling update):
	 * new sessions are refused with `unavailable`, and every client of this
	 * node is told to reconnect (`serverDraining`) — through the signaling
	 * address, so to another node — and its transport is dropped shortly after
	 * for clients that do not act on the notice. Sockets of other nodes are
	 * never touched. Idempotent.
	 */
	drain(dropAfterMs = DRAIN_DROP_AFTER_MS): void {
		if (this.#draining || this.#closed) return;
		this.#draining = true;
		this.#logger.info({ connections: this.connections }, 'draining: clients told to reconnect elsewhere');
		this.io.local.emit('serverDraining', {});
		this.#dropTimer = setTimeout(() => {
			// A dropped transport (not a server "disconnect"): socket.io-client reconnects by itself.
			for (const socket of this.io.of('/').sockets.values()) socket.conn.close();
		}, dropAfterMs);
	}

	/** Disconnects this node's sockets and stops accepting new ones. Idempotent. */
	async close(): Promise<void> {
		if (this.#closed) return;
		this.#closed = true;
		if (this.#dropTimer) clearTimeout(this.#dropTimer);
		// `local`: with the Redis adapter, a plain disconnectSockets reaches every node's sockets.
		this.io.local.disconnectSockets(true);
		// io.close() would also close the http server, which HttpServer owns.
		this.io.engine?.close();
		this.#uws?.close();
		this.#adapterRedis?.disconnect();
	}
}
