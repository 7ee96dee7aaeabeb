import { EventEmitter } from 'node:events';
import type { types } from 'mediasoup';
import type { Logger } from '../logger/index.js';
import { SfuError } from '../protocol/index.js';
import { countRouter, emptyCounts, type MediaCounts } from './MediaCounts.js';
import type { PoolWorker, WorkerPool } from './WorkerPool.js';

export interface RoomMediaOptions {
	/** Codecs every router of the room offers. */
	mediaCodecs: types.RtpCodecCapability[];
	/** Consumers a router takes before new peers go to another router. */
	consumerBudgetPerRouter: number;
}

/** One of the room's routers, with the live objects on it. */
export interface RoomRouter {
	router: types.Router;
	worker: PoolWorker;
	counts: MediaCounts;
}

export type RoomMediaEvents = {
	/** The loudest audio producer changed (after a short hysteresis). */
	dominantspeaker: [producerId: string];
	/** A router died with its worker: the room's media is broken. */
	routerlost: [routerId: string];
	close: [];
};

/**
 * The media side of one room: its routers (one per worker it spans), the pipes
 * that carry producers between them, and the active-speaker observer. Knows
 * nothing of peers or sockets.
 */
export class RoomMedia extends EventEmitter<RoomMediaEvents> {
	readonly #pool: WorkerPool;
	readonly #options: RoomMediaOptions;
	readonly #logger: Logger;
	readonly #routers: RoomRouter[] = [];
	/** In-flight or done pipes, by `${producerId}>${routerId}`. */
	readonly #pipes = new Map<string, Promise<void>>();
	#speakerObserver: types.ActiveSpeakerObserver | null = null;
	#closed = false;

	/** Opens the room's first router on the least-loaded worker. */
	static async create(pool: WorkerPool, options: RoomMediaOptions, logger: Logger): Promise<RoomMedia> {
		const media = new RoomMedia(pool, options, logger);
		const first = await media.#addRouter();
		media.#speakerObserver = await first.router.createActiveSpeakerObserver({ interval: 300 });
		media.#speakerObserver.on('dominantspeaker', ({ producer }) => media.emit('dominantspeaker', producer.id));
		return media;
	}

	private constructor(pool: WorkerPool, options: RoomMediaOptions, logger: Logger) {
		super();
		this.#pool = pool;
		this.#options = options;
		this.#logger = logger;
	}

	get closed(): boolean {
		return this.#closed;
	}

	get routerRtpCapabilities(): types.RtpCapabilities {
		return this.#primary().router.rtpCapabilities;
	}

	get routers(): readonly RoomRouter[] {
		return this.#routers;
	}

	/** Live objects across the room's routers. */
	counts(): MediaCounts {
		const total = emptyCounts();
		for (const r of this.#routers) {
			total.routers += 1;
			total.transports += r.counts.transports;
			total.producers += r.counts.producers;
			total.consumers += r.counts.consumers;
		}
		return total;
	}

	/**
	 * The router a new peer's transports go on: the emptiest router under its
	 * consumer budget, else a new router on a worker the room does not use yet,
	 * else (every worker used) the emptiest router anyway.
	 */
	async routerForNewPeer(): Promise<RoomRouter> {
		this.#assertOpen();
		const byLoad = [...this.#routers].sort((a, b) => a.counts.consumers - b.counts.consumers);
		const underBudget = byLoad.find((r) => r.counts.consumers < this.#options.consumerBudgetPerRouter);
		if (underBudget) return underBudget;
		const used = new Set(this.#routers.map((r) => r.worker));
		if (this.#pool.workers.some((w) => !used.has(w))) {
			const added = await this.#addRouter(used);
			this.#logger.info({ routers: this.#routers.length, workerPid: added.worker.pid }, 'room spread to another worker');
			return added;
		}
		this.#logger.warn({ consumers: byLoad[0]!.counts.consumers }, 'every router of the room is over its consumer budget');
		return byLoad[0]!;
	}

	/** The RoomRouter that holds this mediasoup router. */
	roomRouterOf(router: types.Router): RoomRouter | undefined {
		return this.#routers.find((r) => r.router === router);
	}

	/**
	 * Makes `producer` (on one of the room's routers) consumable on `target`,
	 * piping it there once; concurrent calls share one pipe.
	 */
	async ensureProducerOn(producer: types.Producer, source: types.Router, target: types.Router): Promise<void> {
		if (source === target) return;
		const key = `${producer.id}>${target.id}`;
		let pipe = this.#pipes.get(key);
		if (!pipe) {
			pipe = source.pipeToRouter({ producerId: producer.id, router: target }).then(() => undefined);
			this.#pipes.set(key, pipe);
			producer.observer.once('close', () => this.#pipes.delete(key));
			pipe.catch(() => this.#pipes.delete(key));
		}
		await pipe;
	}

	/** Feeds an audio producer to the active-speaker observer (piping it to the first router if needed). */
	async observeSpeaker(producer: types.Producer, source: types.Router): Promise<void> {
		const observer = this.#speakerObserver;
		if (!observer || observer.closed) return;
		await this.ensureProducerOn(producer, source, this.#primary().router);
		if (!producer.closed && !observer.closed) await observer.addProducer({ producerId: producer.id });
	}

	/** Closes every router (and so every transport, producer and consumer). Idempotent. */
	close(): void {
		if (this.#closed) return;
		this.#closed = true;
		for (const { router } of this.#routers) router.close();
		this.#routers.length = 0;
		this.#pipes.clear();
		this.emit('close');
	}

	async #addRouter(exclude?: ReadonlySet<PoolWorker>): Promise<RoomRouter> {
		const worker = this.#pool.leastLoaded(exclude);
		const router = await worker.createRouter({ mediaCodecs: this.#options.mediaCodecs });
		if (this.#closed) {
			router.close();
			throw new SfuError('room_closed', 'the room has closed');
		}
		const entry: RoomRouter = { router, worker, counts: emptyCounts() };
		countRouter(router, entry.counts);
		this.#routers.push(entry);
		router.observer.once('close', () => {
			if (this.#closed) return;
			// Only a dying worker closes a router we did not close ourselves.
			this.#logger.error({ routerId: router.id, workerPid: worker.pid }, 'room router lost with its worker');
			this.emit('routerlost', router.id);
		});
		return entry;
	}

	#primary(): RoomRouter {
		const first = this.#routers[0];
		if (!first) throw new SfuError('room_closed', 'the room has closed');
		return first;
	}

	#assertOpen(): void {
		if (this.#closed) throw new SfuError('room_closed', 'the room has closed');
	}
}
