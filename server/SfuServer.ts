import { EventEmitter } from 'node:events';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { availableParallelism, hostname } from 'node:os';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ROUTER_MEDIA_CODECS } from '../worker-config/index.js';
import { TokenVerifier } from './auth/index.js';
import type { ServerConfig } from './config/index.js';
import { HttpServer, registerClusterRoutes, registerDemoRoutes, registerIngestRoutes, registerRecordingRoutes, type HealthReport, type Readiness } from './http/index.js';
import { SigningKey } from './integrity/index.js';
import { IngestService } from './ingest/index.js';
import { ClusterMedia, clusterPlacement, createNodeRegistry, type NodeInfo, type NodeRegistry } from './cluster/index.js';
import { RecordingService, resolveFfmpeg, resolveFfprobe } from './recording/index.js';
import { assertWorkerBinary, checkUdpBuffers, WorkerPool } from './media/index.js';
import { TurnCredentials, type IceServer } from './network/index.js';
import { configureLogging, moduleLogger, type Logger } from './observability/index.js';
import { attachMetrics, registerClusterMetrics } from './observability/metrics/index.js';
import { attachAudit, type AuditTrail } from './audit/index.js';
import { RoomRegistry, type RoomCounts, type RoomPlacement } from './rooms/index.js';
import { PROTOCOL_VERSION, SignalingServer } from './signaling/index.js';

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
	#clusterMedia: ClusterMedia | null = null;
	#audit: AuditTrail | null = null;
	#placement: RoomPlacement = { claim: async (_roomId, policy) => policy, release: () => undefined };
	#closing: Promise<void> | null = null;

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
		const numWorkers = config.mediasoup.numWorkers ?? availableParallelism();
		this.#logger.info({ numWorkers, workerBin: bin, version, demo: config.demo }, 'starting');

		let secret = config.auth.jwtSecret;
		if (!secret && !config.auth.jwtPublicKey) {
			// Only reachable with DEMO=1 (config refuses otherwise): tokens then
			// come from /api/dev/token and die with the process.
			secret = randomBytes(32).toString('base64url');
			this.#logger.warn('demo mode without JWT_SECRET: generated an ephemeral secret; portal tokens will not verify');
		}
		this.#verifier = new TokenVerifier({
			...(secret ? { secret } : {}),
			...(config.auth.jwtPublicKey ? { publicKey: config.auth.jwtPublicKey } : {}),
		});

		checkUdpBuffers(moduleLogger(rootLogger, 'media.udp'));
		this.#pool = await WorkerPool.create(
			{
				numWorkers,
				logLevel: config.mediasoup.logLevel,
				logTags: config.mediasoup.logTags,
				rtcMinPort: config.mediasoup.rtcMinPort,
				rtcMaxPort: config.mediasoup.rtcMaxPort,
				respawnDelayMs: config.mediasoup.workerRespawnDelayMs,
				webRtcServer: {
					listenIp: config.webrtc.listenIp,
					port: config.webrtc.port,
					...(config.webrtc.announcedIp ? { announcedIp: config.webrtc.announcedIp } : {}),
					listenInfos: config.webrtc.listenInfos,
					udpPort: config.webrtc.udpPort,
					tcpPort: config.webrtc.tcpPort,
				},
			},
			moduleLogger(rootLogger, 'media.worker-pool'),
		);

		this.#rooms = new RoomRegistry(
			this.#pool,
			{
				media: { mediaCodecs: ROUTER_MEDIA_CODECS, consumerBudgetPerRouter: config.rooms.consumerBudgetPerRouter },
				peerMedia: {
					maxProducers: config.rooms.maxProducersPerPeer,
					maxIncomingBitrate: config.webrtc.maxIncomingBitrate,
					initialAvailableOutgoingBitrate: config.webrtc.initialAvailableOutgoingBitrate,
				},
				maxPeers: config.rooms.maxPeersPerRoom,
				maxRooms: config.rooms.maxRoomsPerNode,
				peerGracePeriodMs: config.rooms.peerGracePeriodMs,
				emptyRoomTimeoutMs: config.rooms.emptyRoomTimeoutMs,
			},
			moduleLogger(rootLogger, 'rooms'),
			{
				claim: (roomId, policy) => this.#placement.claim(roomId, policy),
				release: (roomId) => this.#placement.release(roomId),
				opened: async (room) => this.#clusterMedia?.attach(room),
			},
		);
		this.#registry = createNodeRegistry({
			...(config.cluster.redisUrl ? { redisUrl: config.cluster.redisUrl } : {}),
			heartbeatMs: config.cluster.heartbeatMs,
			self: () => this.nodeInfo(),
			localRooms: () => this.rooms.rooms().map((room) => room.id),
			logger: moduleLogger(rootLogger, 'cluster'),
		});
		this.#placement = clusterPlacement(this.#registry, moduleLogger(rootLogger, 'cluster'), { span: config.cluster.roomMode === 'span' });

		this.#recordings = this.#createRecordingService(rootLogger);
		this.#ingest = this.#createIngestService(rootLogger);

		this.#http = new HttpServer(
			{ host: config.http.host, port: config.http.port, ...(config.http.tlsCert && config.http.tlsKey ? { tls: { cert: config.http.tlsCert, key: config.http.tlsKey } } : {}) },
			{ health: { health: () => this.health(), readiness: () => this.readiness() } },
			moduleLogger(rootLogger, 'http'),
		);
		const verifier = this.#verifier;
		await registerDemoRoutes(this.#http.app, {
			root: ROOT,
			devTokens: config.demo,
			...(verifier.canMint ? { mint: (claims) => verifier.mint(claims, 2 * 3600) } : {}),
		});

		this.#signaling = new SignalingServer(
			{
				maxPayloadBytes: config.signaling.maxPayloadBytes,
				requestsPerSecond: config.signaling.requestsPerSecond,
				corsOrigins: config.signaling.corsOrigins,
				maxConnectionsPerIp: config.signaling.maxConnectionsPerIp,
				defaultWaitingRoom: config.rooms.waitingRoom,
				...this.#iceServers(),
			},
			{ rooms: this.#rooms, recordings: this.#recordings, ingest: this.#ingest, verifier },
			moduleLogger(rootLogger, 'signaling'),
		);
		if (this.#recordings) {
			registerRecordingRoutes(this.#http.app, { recordings: this.#recordings, rooms: this.#rooms, verifier, logger: moduleLogger(rootLogger, 'http.recordings') });
		}
		registerIngestRoutes(this.#http.app, { ingest: this.#ingest, rooms: this.#rooms, verifier });
		if (config.signaling.engine === 'uws') await this.#signaling.attachUws(config.http.host, config.signaling.uwsPort);
		else this.#signaling.attach(this.#http.server);
		if (config.cluster.redisUrl) this.#signaling.useRedisAdapter(config.cluster.redisUrl);
		registerClusterRoutes(this.#http.app, { registry: this.#registry, verifier });
		if (config.cluster.redisUrl && config.cluster.secret && config.cluster.roomMode === 'span') {
			this.#clusterMedia = new ClusterMedia({
				redisUrl: config.cluster.redisUrl,
				secret: config.cluster.secret,
				pipeIp: config.cluster.pipeIp,
				...(config.cluster.pipeAnnouncedIp ? { pipeAnnouncedIp: config.cluster.pipeAnnouncedIp } : {}),
				registry: this.#registry,
				rooms: this.#rooms,
				app: this.#http.app,
				pipeLingerMs: config.cluster.pipeLingerMs,
				logger: moduleLogger(rootLogger, 'cluster.media'),
			});
		}
		const signaling = this.#signaling;
		// Pages learn where signaling lives: same origin, or the uWS port.
		this.#http.app.get('/api/client-config', async () => ({ protocolVersion: PROTOCOL_VERSION, signalingPort: signaling.uwsPort }));
		this.#audit = attachAudit({
			settings: config.audit,
			retention: config.retention,
			nodeId: config.cluster.nodeId,
			dataDir: path.resolve(config.dataDir),
			signingKeyFile: path.resolve(config.signingKeyFile ?? path.join(config.dataDir, 'keys', 'signing-ed25519.pem')),
			rooms: this.#rooms,
			recordings: this.#recordings,
			signaling,
			http: this.#http.app,
			verifier,
			logger: moduleLogger(rootLogger, 'audit'),
		});
		const metrics = await attachMetrics({
			settings: config.metrics,
			idKey: config.log.idKey,
			version,
			server: this,
			pool: this.#pool,
			rooms: this.#rooms,
			recordings: this.#recordings,
			ingest: this.#ingest,
			signaling,
			http: this.#http.app,
			logger: moduleLogger(rootLogger, 'metrics'),
		});
		if (metrics && config.cluster.redisUrl) {
			const registry = this.#registry;
			registerClusterMetrics(metrics.registry, {
				roundTripMs: () => registry.roundTripMs,
				liveNodes: async () => (await registry.nodes().catch(() => null))?.length ?? null,
				pipes: () => this.#clusterMedia?.counts() ?? { inbound: 0, outbound: 0 },
			});
		}
		await this.#http.listen();
		// Registered once listening, so the record carries the real port.
		await this.#registry.start();
	}

	/** TURN servers, with credentials minted for each transport (never logged). */
	#iceServers(): { iceServers?: () => IceServer[] } {
		const { urls, secret, ttlSeconds } = this.#config.turn;
		if (urls.length === 0) return {};
		const turn = new TurnCredentials({ urls, ttlSeconds, ...(secret ? { secret } : {}) });
		this.#logger.info({ iceServerUrls: urls, ttlSeconds }, 'ICE servers handed to clients');
		return { iceServers: () => turn.iceServers() };
	}

	/** Recording needs ffmpeg; without it the node still serves calls and says why it cannot record. */
	#createRecordingService(rootLogger: Logger): RecordingService | null {
		const config = this.#config;
		const logger = moduleLogger(rootLogger, 'recording');
		let ffmpeg: string;
		try {
			ffmpeg = resolveFfmpeg(config.recording.ffmpegPath);
		} catch (error) {
			logger.warn({ err: error }, 'recording disabled');
			return null;
		}
		const dataDir = path.resolve(config.dataDir);
		const key = SigningKey.loadOrCreate(path.resolve(config.signingKeyFile ?? path.join(dataDir, 'keys', 'signing-ed25519.pem')));
		const dir = path.resolve(config.recording.dir ?? path.join(dataDir, 'recordings'));
		logger.info({ dir, ffmpeg, keyId: key.keyId }, 'recording enabled');
		return new RecordingService({
			dir,
			segmentSeconds: config.recording.segmentSeconds,
			ffmpeg,
			ffprobe: resolveFfprobe(ffmpeg),
			portMin: config.recording.portMin,
			portMax: config.recording.portMax,
			requireConsentDefault: config.recording.requireConsent,
			minFreeBytes: config.recording.minFreeMb * 1024 * 1024,
			key,
			logger,
		});
	}

	#createIngestService(rootLogger: Logger): IngestService {
		const config = this.#config;
		let ffmpeg: string | null = null;
		try {
			ffmpeg = resolveFfmpeg(config.recording.ffmpegPath);
		} catch {
			// Push ingest still works; pulling sources says why it cannot.
		}
		// Without its own settings, ingest listens where WebRTC does (its first listen address).
		const webrtcAddress = config.webrtc.listenInfos?.[0] ?? { ip: config.webrtc.listenIp, announcedIp: config.webrtc.announcedIp };
		const announcedIp = config.ingest.announcedIp ?? webrtcAddress.announcedIp;
		return new IngestService({
			ffmpeg,
			ffprobe: ffmpeg ? resolveFfprobe(ffmpeg) : null,
			...(config.ingest.fileRoot ? { fileRoot: path.resolve(config.ingest.fileRoot) } : {}),
			maxSourcesPerRoom: config.ingest.maxSourcesPerRoom,
			listenIp: config.ingest.listenIp ?? webrtcAddress.ip,
			...(announcedIp ? { announcedIp } : {}),
			logger: moduleLogger(rootLogger, 'ingest'),
		});
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
				pipesIn: this.#clusterMedia?.counts().inbound ?? 0,
				pipesOut: this.#clusterMedia?.counts().outbound ?? 0,
			},
		};
	}

	/** The cluster registry (in memory on a single node). */
	get registry(): NodeRegistry {
		if (!this.#registry) throw new Error('server is not started');
		return this.#registry;
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
			await this.#clusterMedia?.close();
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
