import { EventEmitter } from 'node:events';
import * as mediasoup from 'mediasoup';
import type { types } from 'mediasoup';
import { workerSettings, type WorkerSettingsInput } from '../../worker-config/index.js';
import { SfuError } from '../protocol/index.js';
import { webRtcListenInfos, type WebRtcAddress, type WebRtcPorts } from '../network/index.js';
import type { Logger } from '../logger/index.js';
import { waitForProcessExit } from './processExit.js';
import { addCounts, countRouter, emptyCounts, type MediaCounts } from './MediaCounts.js';

function listenInfosOf(options: WebRtcServerOptions, slot: number): types.WebRtcServerListenInfo[] {
	const addresses = options.listenInfos ?? [{ ip: options.listenIp, ...(options.announcedIp ? { announcedIp: options.announcedIp } : {}) }];
	return webRtcListenInfos(addresses, options, slot);
}

export interface PoolWorkerAppData {
	[key: string]: unknown;
	slot: number;
	/** The worker's WebRtcServer: every WebRtcTransport on this worker shares its port. */
	webRtcServer?: types.WebRtcServer;
	/** Live objects on this worker, kept current through mediasoup observers. */
	counts: MediaCounts;
}

export type PoolWorker = types.Worker<PoolWorkerAppData>;

export interface WebRtcServerOptions extends WebRtcPorts {
	listenIp: string;
	announcedIp?: string;
	/** UDP and TCP port of slot 0; slot N listens on port + N. 0: from the worker's RTC range. */
	port: number;
	/** Several listen addresses, each with its announced address; replace listenIp/announcedIp. */
	listenInfos?: WebRtcAddress[] | undefined;
}

export interface WorkerPoolOptions extends WorkerSettingsInput {
	/** Number of workers (one per slot). */
	numWorkers: number;
	/** First delay before a dead worker is replaced; doubles on a crash loop. */
	respawnDelayMs: number;
	/** Create one WebRtcServer per worker. Default: none. */
	webRtcServer?: WebRtcServerOptions;
}

/** A slot's state as reported by /healthz. */
export interface WorkerSlotStatus {
	slot: number;
	/** Pid of the live worker, or null while a replacement is pending. */
	pid: number | null;
	/** How many times this slot's worker died and was replaced. */
	restarts: number;
}

export type WorkerPoolEvents = {
	/** A worker died unexpectedly; its routers and everything in them are gone. */
	workerdied: [slot: number, pid: number, error: Error];
	/** A replacement worker is up in the slot. */
	workerreplaced: [slot: number, worker: PoolWorker];
	/** A replacement failed to start; the pool retries after a longer delay. */
	workerrespawnerror: [slot: number, error: Error];
};

interface Slot {
	index: number;
	worker: PoolWorker | null;
	restarts: number;
	/** Deaths within the last minute, for crash-loop backoff. */
	recentDeaths: number[];
	respawnTimer: NodeJS.Timeout | null;
}

const CRASH_WINDOW_MS = 60_000;
const MAX_RESPAWN_DELAY_MS = 30_000;
const EXIT_WAIT_MS = 5_000;

/**
 * Owns the mediasoup workers of this process: starts one per slot, replaces
 * one that dies, and on close() makes sure no mediasoup-worker outlives us.
 */
export class WorkerPool extends EventEmitter<WorkerPoolEvents> {
	readonly #options: WorkerPoolOptions;
	readonly #logger: Logger;
	readonly #slots: Slot[];
	#closed = false;

	/** Starts all workers; resolves when every slot has a live worker. */
	static async create(options: WorkerPoolOptions, logger: Logger): Promise<WorkerPool> {
		const pool = new WorkerPool(options, logger);
		try {
			await Promise.all(pool.#slots.map((slot) => pool.#spawn(slot)));
		} catch (error) {
			await pool.close();
			throw error;
		}
		return pool;
	}

	private constructor(options: WorkerPoolOptions, logger: Logger) {
		super();
		this.#options = options;
		this.#logger = logger;
		this.#slots = Array.from({ length: options.numWorkers }, (_, index) => ({
			index,
			worker: null,
			restarts: 0,
			recentDeaths: [],
			respawnTimer: null,
		}));
	}

	get closed(): boolean {
		return this.#closed;
	}

	/** The live workers, in slot order. */
	get workers(): PoolWorker[] {
		return this.#slots.flatMap((slot) => (slot.worker ? [slot.worker] : []));
	}

	/**
	 * The live worker with the least work (consumers, then routers), skipping
	 * `exclude`; falls back to the least loaded of all when every worker is excluded.
	 */
	leastLoaded(exclude: ReadonlySet<PoolWorker> = new Set()): PoolWorker {
		const live = this.workers;
		if (live.length === 0) throw new SfuError('unavailable', 'no media worker is running on this node; try again shortly');
		const candidates = live.filter((worker) => !exclude.has(worker));
		const load = (w: PoolWorker): number => w.appData.counts.consumers * 10 + w.appData.counts.routers;
		return (candidates.length > 0 ? candidates : live).reduce((best, w) => (load(w) < load(best) ? w : best));
	}

	/** Totals over the live workers. */
	counts(): MediaCounts {
		return this.workers.reduce((sum, worker) => addCounts(sum, worker.appData.counts), emptyCounts());
	}

	/** Per-slot status, including slots waiting for a replacement worker. */
	status(): WorkerSlotStatus[] {
		return this.#slots.map((slot) => ({
			slot: slot.index,
			pid: slot.worker?.pid ?? null,
			restarts: slot.restarts,
		}));
	}

	/**
	 * Closes every worker and waits until their processes are gone.
	 * Idempotent.
	 */
	async close(): Promise<void> {
		if (this.#closed) return;
		this.#closed = true;
		const pids: number[] = [];
		for (const slot of this.#slots) {
			if (slot.respawnTimer) clearTimeout(slot.respawnTimer);
			slot.respawnTimer = null;
			if (slot.worker) {
				pids.push(slot.worker.pid);
				slot.worker.close();
				slot.worker = null;
			}
		}
		const lingering = await Promise.all(pids.map((pid) => waitForProcessExit(pid, EXIT_WAIT_MS)));
		for (const [i, exited] of lingering.entries()) {
			if (exited) continue;
			// A worker that ignores SIGTERM must not survive us as an orphan.
			this.#logger.warn({ pid: pids[i] }, 'mediasoup worker ignored SIGTERM; sending SIGKILL');
			try {
				process.kill(pids[i]!, 'SIGKILL');
			} catch {
				// Already gone.
			}
		}
		this.#logger.info({ workers: pids.length }, 'worker pool closed');
	}

	async #spawn(slot: Slot): Promise<void> {
		const settings = workerSettings(this.#options, slot.index, this.#slots.length);
		const worker = await mediasoup.createWorker<PoolWorkerAppData>({
			...settings,
			appData: { slot: slot.index, counts: emptyCounts() },
		});
		if (this.#closed) {
			worker.close();
			return;
		}
		const counts = worker.appData.counts;
		worker.observer.on('newrouter', (router) => countRouter(router, counts));
		if (this.#options.webRtcServer) {
			try {
				worker.appData.webRtcServer = await worker.createWebRtcServer({ listenInfos: listenInfosOf(this.#options.webRtcServer, slot.index) });
			} catch (error) {
				worker.close();
				throw new Error(`cannot open the WebRtcServer of worker ${slot.index}: ${(error as Error).message}`, { cause: error });
			}
			if (this.#closed) {
				worker.close();
				return;
			}
		}
		slot.worker = worker;
		worker.on('died', (error) => this.#onDied(slot, worker, error));
		this.#logger.info(
			{ slot: slot.index, workerPid: worker.pid, rtcMinPort: settings.rtcMinPort, rtcMaxPort: settings.rtcMaxPort },
			'mediasoup worker started',
		);
	}

	#onDied(slot: Slot, worker: PoolWorker, error: Error): void {
		if (slot.worker !== worker) return;
		slot.worker = null;
		const now = Date.now();
		slot.recentDeaths = [...slot.recentDeaths.filter((t) => now - t < CRASH_WINDOW_MS), now];
		this.#logger.error({ slot: slot.index, workerPid: worker.pid, err: error }, 'mediasoup worker died');
		this.emit('workerdied', slot.index, worker.pid, error);
		if (!this.#closed) this.#scheduleRespawn(slot);
	}

	#scheduleRespawn(slot: Slot): void {
		const exponent = Math.max(0, slot.recentDeaths.length - 1);
		const delay = Math.min(MAX_RESPAWN_DELAY_MS, this.#options.respawnDelayMs * 2 ** exponent);
		slot.respawnTimer = setTimeout(() => {
			slot.respawnTimer = null;
			this.#spawn(slot).then(
				() => {
					if (!slot.worker) return;
					slot.restarts += 1;
					this.#logger.info({ slot: slot.index, workerPid: slot.worker.pid, restarts: slot.restarts }, 'mediasoup worker replaced');
					this.emit('workerreplaced', slot.index, slot.worker);
				},
				(spawnError: Error) => {
					this.#logger.error({ slot: slot.index, err: spawnError }, 'replacement mediasoup worker failed to start');
					this.emit('workerrespawnerror', slot.index, spawnError);
					if (!this.#closed) {
						slot.recentDeaths.push(Date.now());
						this.#scheduleRespawn(slot);
					}
				},
			);
		}, delay);
	}
}
