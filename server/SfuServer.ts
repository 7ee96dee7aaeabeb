import { EventEmitter } from 'node:events';
import { existsSync } from 'node:fs';
import { availableParallelism, hostname } from 'node:os';
import { createRequire } from 'node:module';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { openAuditTrail, type AuditTrail } from './audit/index.js';
import type { TokenVerifier } from './auth/index.js';
import { ClusterRooms, clusterPlacement, createNodeRegistry, createRedisClient, RedisRoomState, type NodeInfo, type NodeRegistry } from './cluster/index.js';
import type { ServerConfig } from './config/index.js';
import { HttpServer, MetricsEndpoint, registerRoutes, type HealthReport, type Readiness } from './http/index.js';
import type { IngestService } from './ingest/index.js';
import { configureLogging, moduleLogger, type Logger } from './logger/index.js';
import { assertWorkerBinary, checkUdpBuffers, type WorkerPool } from './media/index.js';
import { createMetrics, registerClusterMetrics, type SfuMetrics } from './metrics/index.js';
import { PROTOCOL_VERSION } from './protocol/index.js';
import type { RecordingService } from './recording/index.js';
import { LocalAdmissions, LocalRoomControl, type RoomCounts, type RoomPlacement, type RoomRegistry } from './rooms/index.js';
import { createIngestService, createRecordingService, createRoomRegistry, createVerifier, createWorkerPool, iceServerSource, signingKeyFile } from './services.js';
import { SignalingServer } from './signaling/index.js';

const require = createRequire(import.meta.url);
/** The repository root, found from this file whether run from server/ (tsx) or dist/server/. */
const ROOT = (() => {
	let dir = path.dirname(fileURLToPath(import.meta.url));
	while (!existsSync(path.join(dir, 'package.json'))) dir = path.dirname(dir);
	return dir;
})();
const { version } = require(path.join(ROOT, 'package.json')) as { version: string };

export type SfuServerEvents = {
	/** Emitted once, when close() has released everything. */
	close: [];
};

/**
 * One SFU node: the composition root that owns the worker pool, the rooms,
 * signaling and HTTP, and closes them in the right order.
 */
export class SfuServer extends EventEmitter<SfuServerEvents> {
	readonly #config: ServerConfig;
	readonly #logger: Logger;
	readonly #startedAt = Date.now();
	#pool: WorkerPool | null = null;
	#rooms: RoomRegistry | null = null;
	#signaling: SignalingServer | null = null;
	#http: HttpServer | null = null;
	#verifier: TokenVerifier | null = null;
	#recordings: RecordingService | null = null;
	#ingest: IngestService | null = null;
	#registry: NodeRegistry | null = null;
	#clusterRooms: ClusterRooms | null = null;
	#roomState: RedisRoomState | null = null;
	#audit: AuditTrail | null = null;
	#metrics: SfuMetrics | null = null;
	#metricsEndpoint: MetricsEndpoint | null = null;
	#placement: RoomPlacement = { claim: async (_roomId, policy) => policy, release: () => undefined };
	#closing: Promise<void> | null = null;
	#draining: Promise<void> | null = null;

	static async start(config: ServerConfig, rootLogger: Logger): Promise<SfuServer> {
		configureLogging(rootLogger, config.log);
		const server = new SfuServer(config, rootLogger);
		try {
			await server.#start(rootLogger);
		} catch (error) {
			await server.close();
			throw error;
		}
		return server;
	}

	private constructor(config: ServerConfig, rootLogger: Logger) {
		super();
		this.#config = config;
		this.#logger = moduleLogger(rootLogger, 'server');
	}

	async #start(rootLogger: Logger): Promise<void> {
		const config = this.#config;
		const bin = assertWorkerBinary();
		this.#logger.info({ numWorkers: config.mediasoup.numWorkers ?? availableParallelism(), workerBin: bin, version, demo: config.demo }, 'starting');
		const verifier = createVerifier(config, this.#logger);
		this.#verifier = verifier;

		checkUdpBuffers(moduleLogger(rootLogger, 'media.udp'));
		this.#pool = await createWorkerPool(config, rootLogger);
		const clusterLogger = moduleLogger(rootLogger, 'cluster');
		const spanning = config.cluster.redisUrl && config.cluster.secret && config.cluster.roomMode === 'span' ? { redisUrl: config.cluster.redisUrl, secret: config.cluster.secret } : null;
		// Admissions and removals: shared by the nodes of a spanning cluster, else this node's.
		const roomState = spanning ? new RedisRoomState({ redisUrl: spanning.redisUrl, nodeId: config.cluster.nodeId, logger: clusterLogger }) : null;
		this.#roomState = roomState;
		const placement: RoomPlacement = {
			claim: (roomId, policy) => this.#placement.claim(roomId, policy),
			release: (roomId) => this.#placement.release(roomId),
			opened: async (room) => this.#clusterRooms?.attach(room),
		};
		this.#rooms = createRoomRegistry(config, { pool: this.#pool, placement, admissions: roomState ?? new LocalAdmissions() }, rootLogger);
		this.#registry = createNodeRegistry({
			...(config.cluster.redisUrl ? { redisUrl: config.cluster.redisUrl } : {}),
			heartbeatMs: config.cluster.heartbeatMs,
			self: () => this.nodeInfo(),
			localRooms: () => this.rooms.rooms().map((room) => room.id),
			logger: clusterLogger,
		});
		this.#placement = clusterPlacement(this.#registry, clusterLogger, { span: config.cluster.roomMode === 'span' });
		if (spanning && roomState) {
			this.#clusterRooms = new ClusterRooms({
				redisUrl: spanning.redisUrl,
				secret: spanning.secret,
				state: roomState,
				pipeIp: config.cluster.pipeIp,
				...(config.cluster.pipeAnnouncedIp ? { pipeAnnouncedIp: config.cluster.pipeAnnouncedIp } : {}),
				registry: this.#registry,
				rooms: this.#rooms,
				pipeLingerMs: config.cluster.pipeLingerMs,
				logger: moduleLogger(rootLogger, 'cluster.media'),
			});
		}
		this.#recordings = createRecordingService(config, rootLogger, this.#clusterRooms?.recordings);
		if (this.#recordings) this.#clusterRooms?.recordings.serve(this.#recordings);
		this.#ingest = createIngestService(config, rootLogger);

		const control = this.#clusterRooms?.control ?? new LocalRoomControl();
		const iceServers = iceServerSource(config, this.#logger);
		const signaling = new SignalingServer(
			{
				maxPayloadBytes: config.signaling.maxPayloadBytes,
				requestsPerSecond: config.signaling.requestsPerSecond,
				corsOrigins: config.signaling.corsOrigins,
				maxConnectionsPerIp: config.signaling.maxConnectionsPerIp,
				maxUnauthenticated: config.signaling.maxUnauthenticated,
				handshakeTimeoutMs: config.signaling.handshakeTimeoutMs,
				defaultWaitingRoom: config.rooms.waitingRoom,
				...(iceServers ? { iceServers } : {}),
			},
			{ rooms: this.#rooms, control, recordings: this.#recordings, ingest: this.#ingest, verifier },
			moduleLogger(rootLogger, 'signaling'),
		);
		this.#signaling = signaling;

		// Observers: they follow rooms, recordings and signaling; nothing calls into them.
		this.#audit = openAuditTrail({
			settings: config.audit,
			retention: config.retention,
			nodeId: config.cluster.nodeId,
			dataDir: path.resolve(config.dataDir),
			signingKeyFile: signingKeyFile(config),
			rooms: this.#rooms,
			control,
			recordings: this.#recordings,
			signaling,
			logger: moduleLogger(rootLogger, 'audit'),
		});
		this.#metrics = this.#createMetrics(signaling, rootLogger);
		if (this.#metrics && config.metrics.port !== undefined) {
			this.#metricsEndpoint = await MetricsEndpoint.listen(config.metrics.host, config.metrics.port, this.#metrics);
			this.#logger.info({ host: config.metrics.host, port: this.#metricsEndpoint.port }, 'metrics on their own port');
		}

		this.#http = new HttpServer(
			{
				host: config.http.host,
				port: config.http.port,
				requestTimeoutMs: config.http.requestTimeoutMs,
				connectionTimeoutMs: config.http.connectionTimeoutMs,
				keepAliveTimeoutMs: config.http.keepAliveTimeoutMs,
				...(config.http.tlsCert && config.http.tlsKey ? { tls: { cert: config.http.tlsCert, key: config.http.tlsKey } } : {}),
			},
			{ health: { health: () => this.health(), readiness: () => this.readiness() } },
			moduleLogger(rootLogger, 'http'),
		);
		await registerRoutes(this.#http.app, {
			demo: { root: ROOT, devTokens: config.demo, ...(verifier.canMint ? { mint: (claims) => verifier.mint(claims, 2 * 3600) } : {}) },
			verifier,
			rooms: this.#rooms,
			ingest: this.#ingest,
			recordings: this.#recordings,
			registry: this.#registry,
			clientConfig: () => ({ protocolVersion: PROTOCOL_VERSION, signalingPort: signaling.uwsPort }),
			audit: this.#audit.log && this.#audit.refusals ? { log: this.#audit.log, refusals: this.#audit.refusals, root: this.#audit.root } : null,
			metrics: this.#metrics && config.metrics.port === undefined ? this.#metrics : null,
			...(config.metrics.token ? { metricsToken: config.metrics.token } : {}),
			internal: this.#clusterRooms && config.cluster.secret ? { secret: config.cluster.secret, pipes: this.#clusterRooms.pipes } : null,
			logger: moduleLogger(rootLogger, 'http.recordings'),
		});
		if (config.signaling.engine === 'uws') await signaling.attachUws(config.http.host, config.signaling.uwsPort);
		else signaling.attach(this.#http.server);
		if (config.cluster.redisUrl) signaling.useRedisAdapter(createRedisClient(config.cluster.redisUrl, { commandRetries: 20 }));
		await this.#http.listen();
		// Registered once listening, so the record carries the real port.
		await this.#registry.start();
	}

	#createMetrics(signaling: SignalingServer, rootLogger: Logger): SfuMetrics | null {
		const config = this.#config;
		const metrics = createMetrics({
			settings: config.metrics,
			idKey: config.log.idKey,
			version,
			pool: this.pool,
			rooms: this.rooms,
			recordings: this.#recordings,
			ingest: this.#ingest,
			signaling,
			logger: moduleLogger(rootLogger, 'metrics'),
		});
		if (metrics && config.cluster.redisUrl) {
			const registry = this.registry;
			registerClusterMetrics(metrics.registry, {
				roundTripMs: () => registry.roundTripMs,
				liveNodes: async () => (await registry.nodes().catch(() => null))?.length ?? null,
				pipes: () => this.#clusterRooms?.pipes.counts() ?? { inbound: 0, outbound: 0 },
			});
		}
		return metrics;
	}

	/** The port of the separate metrics listener (METRICS_PORT), or null when metrics share the HTTP port. */
	get metricsPort(): number | null {
		return this.#metricsEndpoint?.port ?? null;
	}

	/** The HTTP port actually bound (differs from config when it asked for 0). */
	get port(): number {
		if (!this.#http) throw new Error('server is not started');
		return this.#http.port;
	}

	get pool(): WorkerPool {
		if (!this.#pool) throw new Error('server is not started');
		return this.#pool;
	}

	get rooms(): RoomRegistry {
		if (!this.#rooms) throw new Error('server is not started');
		return this.#rooms;
	}

	get ingest(): IngestService {
		if (!this.#ingest) throw new Error('server is not started');
		return this.#ingest;
	}

	/** Null when ffmpeg is missing. */
	get recordings(): RecordingService | null {
		return this.#recordings;
	}

	/** The audit trail and retention job (null before start). */
	get audit(): AuditTrail | null {
		return this.#audit;
	}

	get verifier(): TokenVerifier {
		if (!this.#verifier) throw new Error('server is not started');
		return this.#verifier;
	}

	/** The uWebSockets.js signaling port, or null when signaling shares the HTTP port. */
	get signalingPort(): number | null {
		return this.#signaling?.uwsPort ?? null;
	}

	/** Rooms, peers and mediasoup objects held now; all zero when idle. */
	counts(): RoomCounts & { connections: number } {
		return { ...this.rooms.counts(), connections: this.#signaling?.connections ?? 0 };
	}

	health(): HealthReport {
		const workers = this.#pool?.status() ?? [];
		const status = this.#closing ? 'shutting_down' : workers.every((w) => w.pid !== null) ? 'ok' : 'degraded';
		return { status, version, uptimeSeconds: Math.round((Date.now() - this.#startedAt) / 1000), workers };
	}

	readiness(): Readiness {
		const reasons: string[] = [];
		if (this.#closing) reasons.push('shutting_down');
		else if (this.#draining) reasons.push('draining');
		if (!this.#pool || this.#pool.workers.length === 0) reasons.push('no_workers');
		if (this.#rooms && this.#rooms.counts().peers >= this.#config.cluster.maxPeers) reasons.push('over_capacity');
		return { ready: reasons.length === 0, reasons };
	}

	/** What this node tells the cluster about itself. */
	nodeInfo(): NodeInfo {
		const counts = this.#rooms?.counts();
		const workers = this.#pool?.workers.length ?? 0;
		const consumers = this.#pool?.counts().consumers ?? 0;
		const publicUrl = this.#config.cluster.publicUrl ?? `http://${this.#config.http.host === '0.0.0.0' ? hostname() : this.#config.http.host}:${this.#http?.port ?? this.#config.http.port}`;
		return {
			id: this.#config.cluster.nodeId,
			version,
			publicUrl,
			internalUrl: this.#config.cluster.internalUrl ?? publicUrl,
			startedAt: new Date(this.#startedAt).toISOString(),
			updatedAt: new Date().toISOString(),
			ready: this.readiness().ready,
			load: {
				rooms: counts?.rooms ?? 0,
				peers: counts?.peers ?? 0,
				consumers,
				workers,
				consumersPerWorker: workers > 0 ? consumers / workers : Number.MAX_SAFE_INTEGER,
				pipesIn: this.#clusterRooms?.pipes.counts().inbound ?? 0,
				pipesOut: this.#clusterRooms?.pipes.counts().outbound ?? 0,
			},
		};
	}

	/** The cluster registry (in memory on a single node). */
	get registry(): NodeRegistry {
		if (!this.#registry) throw new Error('server is not started');
		return this.#registry;
	}

	/** Whether this node drains before it stops: only in a cluster whose rooms span nodes (its clients can go elsewhere). */
	get drains(): boolean {
		return this.#clusterRooms !== null;
	}

	/**
	 * A rolling update stops this node while the cluster goes on: `/readyz`
	 * turns false and the cluster learns it at once (new rooms and sessions go
	 * elsewhere), new sessions are refused, this node's clients are told to
	 * reconnect (they land on other nodes, admitted patients stay admitted),
	 * and participants of other nodes are never touched. Resolves once this
	 * node's clients left, or after `timeoutMs`. Call close() next.
	 */
	drain(timeoutMs = this.#config.drainTimeoutMs): Promise<void> {
		this.#draining ??= (async () => {
			this.#logger.info({ connections: this.#signaling?.connections ?? 0, timeoutMs }, 'draining');
			await this.#registry?.announce().catch(() => undefined);
			// Recordings go on elsewhere before the people do.
			await this.#recordings?.handOver();
			this.#rooms?.drain();
			this.#signaling?.drain();
			const deadline = Date.now() + timeoutMs;
			while ((this.#signaling?.connections ?? 0) > 0 && Date.now() < deadline) await sleep(100);
			this.#logger.info({ connections: this.#signaling?.connections ?? 0 }, 'drained');
		})();
		return this.#draining;
	}

	/**
	 * Tells every peer, stops taking requests, then closes media; resolves when
	 * no worker process is left. Idempotent: later calls return the same promise.
	 */
	close(): Promise<void> {
		this.#closing ??= (async () => {
			this.#logger.info('closing');
			// Seal recordings first: their last segments must reach the manifest.
			await this.#recordings?.close();
			this.#ingest?.close();
			this.#rooms?.close();
			await this.#signaling?.close();
			await this.#http?.close();
			await this.#clusterRooms?.close();
			await this.#roomState?.close();
			this.#metricsEndpoint?.close();
			this.#metrics?.close();
			await this.#registry?.close();
			await this.#pool?.close();
			// Last: everything above may still record (peers leaving, recordings stopping).
			await this.#audit?.close();
			this.#logger.info('closed');
			this.emit('close');
		})();
		return this.#closing;
	}
}
