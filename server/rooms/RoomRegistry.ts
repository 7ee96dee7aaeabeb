import { EventEmitter } from 'node:events';
import { SfuError } from '../protocol/index.js';
import type { WorkerPool } from '../media/index.js';
import { emptyCounts, type MediaCounts } from '../media/index.js';
import type { Logger } from '../logger/index.js';
import { Room, type RoomOptions, type RoomPolicy } from './Room.js';
import type { RoomAdmissions } from './RoomAdmissions.js';

/** Counts of everything this node holds; all return to zero when idle. */
export interface RoomCounts extends MediaCounts {
	rooms: number;
	peers: number;
	waiting: number;
}

/** Where rooms may open: a cluster claims each room for one node first. */
export interface RoomPlacement {
	/**
	 * Resolves with the room's policy (the cluster's, if another node opened
	 * the room first) when this node may host it; throws SfuError
	 * (room_elsewhere, unavailable) otherwise.
	 */
	claim(roomId: string, proposed: RoomPolicy): Promise<RoomPolicy>;
	release(roomId: string): void;
	/** The room opened here: the cluster mirrors its remote participants before anyone joins. */
	opened?(room: Room): Promise<void>;
}

export type RoomRegistryObserverEvents = {
	/** A room opened on this node (follow its `observer` for what happens in it). */
	newroom: [room: Room];
};

/**
 * The rooms of this node, by id. Creating a room is asynchronous (it opens a
 * router), so concurrent first joins share one creation.
 */
export class RoomRegistry {
	/** For monitors: recordings, the cluster, audit and metrics follow new rooms here. */
	readonly observer = new EventEmitter<RoomRegistryObserverEvents>();
	readonly #pool: WorkerPool;
	readonly #admissions: RoomAdmissions;
	readonly #options: RoomOptions;
	readonly #logger: Logger;
	readonly #rooms = new Map<string, Room>();
	readonly #creating = new Map<string, Promise<Room>>();
	readonly #placement: RoomPlacement | undefined;
	#closed = false;
	#draining = false;

	constructor(deps: { pool: WorkerPool; admissions: RoomAdmissions; placement?: RoomPlacement }, options: RoomOptions, logger: Logger) {
		this.#pool = deps.pool;
		this.#admissions = deps.admissions;
		this.#options = options;
		this.#logger = logger;
		this.#placement = deps.placement;
	}

	get(roomId: string): Room | undefined {
		return this.#rooms.get(roomId);
	}

	rooms(): Room[] {
		return [...this.#rooms.values()];
	}

	/** The open room with this id, created with `policy` if there is none. */
	async getOrCreate(roomId: string, policy: RoomPolicy): Promise<Room> {
		if (this.#closed || this.#draining) throw new SfuError('unavailable', 'this node is shutting down; connect again to reach another node');
		const existing = this.#rooms.get(roomId);
		if (existing && !existing.closed) return existing;
		let creating = this.#creating.get(roomId);
		if (!creating && this.#rooms.size + this.#creating.size >= (this.#options.maxRooms ?? Infinity)) {
			throw new SfuError('limit_exceeded', 'this node hosts as many rooms as it may; try again later');
		}
		if (!creating) {
			creating = (async () => {
				// In a cluster the room must be ours first (else: room_elsewhere).
				const agreed = this.#placement ? await this.#placement.claim(roomId, policy) : policy;
				const room = await Room.create(roomId, agreed, { pool: this.#pool, admissions: this.#admissions }, this.#options, this.#logger.child({ roomId }));
				await this.#placement?.opened?.(room);
				return room;
			})().then(
				(room) => {
					this.#creating.delete(roomId);
					this.#rooms.set(roomId, room);
					room.once('close', () => {
						if (this.#rooms.get(roomId) === room) this.#rooms.delete(roomId);
						this.#placement?.release(roomId);
					});
					this.observer.emit('newroom', room);
					return room;
				},
				(error: unknown) => {
					this.#creating.delete(roomId);
					throw error;
				},
			);
			this.#creating.set(roomId, creating);
		}
		return creating;
	}

	counts(): RoomCounts {
		const counts: RoomCounts = { rooms: 0, peers: 0, waiting: 0, ...emptyCounts() };
		for (const room of this.#rooms.values()) {
			counts.rooms += 1;
			for (const peer of room.localPeers()) {
				if (peer.state === 'waiting') counts.waiting += 1;
				else counts.peers += 1;
			}
			const media = room.media.counts();
			counts.routers += media.routers;
			counts.transports += media.transports;
			counts.producers += media.producers;
			counts.consumers += media.consumers;
		}
		return counts;
	}

	/** This node is shutting down: no new rooms, and every room lets its leaving clients go at once. */
	drain(): void {
		this.#draining = true;
		for (const room of this.#rooms.values()) room.drain();
	}

	/** Closes every room (server shutdown). Idempotent. */
	close(): void {
		if (this.#closed) return;
		this.#closed = true;
		for (const room of [...this.#rooms.values()]) room.close('server_shutdown');
		this.#rooms.clear();
	}
}
