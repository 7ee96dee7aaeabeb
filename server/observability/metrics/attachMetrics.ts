import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { FastifyInstance } from 'fastify';
import { collectDefaultMetrics, Gauge, Registry } from 'prom-client';
import type { WorkerPool } from '../../media/index.js';
import type { RecordingService } from '../../recording/index.js';
import type { RoomRegistry } from '../../rooms/index.js';
import type { SignalingServer } from '../../signaling/index.js';
import type { Logger } from '../logger.js';
import { registerIngestMetrics, type IngestSource } from './IngestMetrics.js';
import { MediaObjects } from './MediaObjects.js';
import { registerRecordingMetrics } from './RecordingMetrics.js';
import { RoomMetrics } from './RoomMetrics.js';
import { RtpMetrics } from './RtpMetrics.js';
import { registerSignalingMetrics } from './SignalingMetrics.js';
import { StatsSampler } from './StatsSampler.js';
import { registerHostUdpMetrics, registerWorkerMetrics } from './WorkerMetrics.js';

/** `ServerConfig['metrics']` fits. */
export interface MetricsSettings {
	enabled: boolean;
	/** Separate admin port for /metrics; unset: the HTTP port. */
	port?: number | undefined;
	host: string;
	statsIntervalMs: number;
	statsMaxObjects: number;
	roomLabels: boolean;
}

export interface MetricsDeps {
	settings: MetricsSettings;
	/** Key of room references (LOG_ID_KEY), so a room has the same reference in logs and metrics. */
	idKey?: string | undefined;
	version: string;
	/** The node; metrics stop when it emits `close`. */
	server: { once(event: 'close', listener: () => void): unknown };
	pool: WorkerPool;
	rooms: RoomRegistry;
	recordings: RecordingService | null;
	signaling: SignalingServer;
	/**
	 * Pulled ingest sources, when the node has the ingest module (then
	 * sfu_ingest_* exist). SfuServer passes its IngestService here once ingest lands.
	 */
	ingest?: IngestSource | null;
	/** The node's HTTP app: /metrics goes there unless `settings.port` is set. Register before it listens. */
	http: FastifyInstance;
	logger: Logger;
}

/** A node's metrics: its registry and the parts that run on their own. */
export class SfuMetrics {
	readonly registry: Registry;
	readonly objects: MediaObjects;
	readonly sampler: StatsSampler | null;
	#admin: Server | null = null;
	#closed = false;

	constructor(registry: Registry, objects: MediaObjects, sampler: StatsSampler | null) {
		this.registry = registry;
		this.objects = objects;
		this.sampler = sampler;
	}

	/** The separate metrics port, or null when /metrics is on the HTTP port. */
	get adminPort(): number | null {
		return this.#admin ? (this.#admin.address() as AddressInfo).port : null;
	}

	/** Serves /metrics on its own port (an admin network, a firewall rule away from patients). */
	async listenAdmin(host: string, port: number): Promise<void> {
		const registry = this.registry;
		const server = createServer((request, response) => {
			if (request.method !== 'GET' || request.url?.split('?')[0] !== '/metrics') {
				response.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n');
				return;
			}
			registry.metrics().then(
				(text) => response.writeHead(200, { 'content-type': registry.contentType }).end(text),
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
		this.#admin = server;
	}

	/** Stops sampling and the admin port. Idempotent. */
	close(): void {
		if (this.#closed) return;
		this.#closed = true;
		this.sampler?.close();
		this.#admin?.closeAllConnections();
		this.#admin?.close();
	}
}

/**
 * Wires the node's metrics: every part observes (mediasoup observers, typed
 * events of rooms, recordings and signaling) and nothing in business code
 * calls into metrics. Returns null when metrics are off.
 */
export async function attachMetrics(deps: MetricsDeps): Promise<SfuMetrics | null> {
	const { settings, logger } = deps;
	if (!settings.enabled) return null;
	const registry = new Registry();
	collectDefaultMetrics({ register: registry });
	new Gauge({ name: 'sfu_build_info', help: 'Always 1; the version label names the running build.', labelNames: ['version'], registers: [registry] }).set({ version: deps.version }, 1);

	const objects = new MediaObjects();
	for (const worker of deps.pool.workers) objects.follow(worker, worker.appData.slot);
	deps.pool.on('workerreplaced', (slot, worker) => objects.follow(worker, slot));
	registerWorkerMetrics(registry, deps.pool, objects);
	registerHostUdpMetrics(registry);

	const rooms = new RoomMetrics(registry, deps.rooms, objects, { roomLabels: settings.roomLabels, ...(deps.idKey ? { idKey: deps.idKey } : {}) });
	const rtp = new RtpMetrics(registry, settings.roomLabels ? { roomOf: (router) => rooms.roomOf(router) } : {});
	rooms.onRoomClosed((room) => rtp.forgetRoom(room));
	const sampler =
		settings.statsIntervalMs > 0 ? new StatsSampler(objects, rtp, { intervalMs: settings.statsIntervalMs, maxObjectsPerTick: settings.statsMaxObjects }) : null;
	sampler?.start();

	registerSignalingMetrics(registry, deps.signaling);
	if (deps.recordings) registerRecordingMetrics(registry, deps.recordings);
	if (deps.ingest) registerIngestMetrics(registry, deps.ingest);

	const metrics = new SfuMetrics(registry, objects, sampler);
	if (settings.port !== undefined) {
		await metrics.listenAdmin(settings.host, settings.port);
		logger.info({ host: settings.host, port: metrics.adminPort }, 'metrics on their own port');
	} else {
		deps.http.get('/metrics', async (_request, reply) => reply.type(registry.contentType).send(await registry.metrics()));
	}
	deps.server.once('close', () => metrics.close());
	logger.info({ statsIntervalMs: settings.statsIntervalMs, statsMaxObjects: settings.statsMaxObjects, roomLabels: settings.roomLabels }, 'metrics ready');
	return metrics;
}
