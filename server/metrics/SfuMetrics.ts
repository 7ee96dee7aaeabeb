import { collectDefaultMetrics, Gauge, Registry } from 'prom-client';
import type { WorkerPool } from '../media/index.js';
import type { RecordingService } from '../recording/index.js';
import type { RoomRegistry } from '../rooms/index.js';
import type { Logger } from '../logger/index.js';
import { registerIngestMetrics, type IngestSource } from './IngestMetrics.js';
import { MediaObjects } from './MediaObjects.js';
import { registerRecordingMetrics } from './RecordingMetrics.js';
import { RoomMetrics } from './RoomMetrics.js';
import { RtpMetrics } from './RtpMetrics.js';
import { registerSignalingMetrics, type SignalingSource } from './SignalingMetrics.js';
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
	pool: WorkerPool;
	rooms: RoomRegistry;
	recordings: RecordingService | null;
	signaling: SignalingSource;
	/**
	 * Pulled ingest sources, when the node has the ingest module (then
	 * sfu_ingest_* exist). SfuServer passes its IngestService here once ingest lands.
	 */
	ingest?: IngestSource | null;
	logger: Logger;
}

/** A node's metrics: its registry and the parts that run on their own. */
export class SfuMetrics {
	readonly registry: Registry;
	readonly objects: MediaObjects;
	readonly sampler: StatsSampler | null;
	#closed = false;

	constructor(registry: Registry, objects: MediaObjects, sampler: StatsSampler | null) {
		this.registry = registry;
		this.objects = objects;
		this.sampler = sampler;
	}

	/** The exposition text Prometheus scrapes, and its content type. */
	async exposition(): Promise<{ contentType: string; text: string }> {
		return { contentType: this.registry.contentType, text: await this.registry.metrics() };
	}

	/** Stops sampling. Idempotent. */
	close(): void {
		if (this.#closed) return;
		this.#closed = true;
		this.sampler?.close();
	}
}

/**
 * Builds the node's metrics: every part observes (mediasoup observers, typed
 * events of rooms, recordings and signaling) and nothing in business code
 * calls into metrics. Returns null when metrics are off. http/ serves them.
 */
export function createMetrics(deps: MetricsDeps): SfuMetrics | null {
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
	logger.info({ statsIntervalMs: settings.statsIntervalMs, statsMaxObjects: settings.statsMaxObjects, roomLabels: settings.roomLabels }, 'metrics ready');
	return metrics;
}
