import type { Room } from '../rooms/index.js';
import { DeadNodeSweep } from './DeadNodeSweep.js';
import { NodePipes, type NodePipesOptions } from './NodePipes.js';
import { RoomRoster } from './RoomRoster.js';

export interface ClusterRoomsOptions extends NodePipesOptions {
	redisUrl: string;
	/** Period of the sweep that forgets dead nodes' participants. Default 2000 ms. */
	sweepMs?: number;
}

/**
 * Rooms that span nodes: each node hosts its own participants, the roster
 * (Redis) makes every node see everyone, pipes bring media across on demand,
 * and a sweep forgets nodes that died.
 */
export class ClusterRooms {
	readonly roster: RoomRoster;
	/** The node-to-node media pipes (their internal HTTP routes are http/'s). */
	readonly pipes: NodePipes;
	readonly #sweep: DeadNodeSweep;
	#closed = false;

	constructor(options: ClusterRoomsOptions) {
		this.roster = new RoomRoster({ redisUrl: options.redisUrl, registry: options.registry, rooms: options.rooms, logger: options.logger });
		this.pipes = new NodePipes(options);
		this.#sweep = new DeadNodeSweep({ registry: options.registry, rooms: options.rooms, roster: this.roster, pipes: this.pipes, ...(options.sweepMs ? { intervalMs: options.sweepMs } : {}), logger: options.logger });
	}

	/** A room opened here: it gets remote media through the pipes and joins the shared roster. */
	async attach(room: Room): Promise<void> {
		room.remoteMedia = this.pipes;
		room.observer.once('close', () => {
			room.remoteMedia = null;
		});
		await this.roster.attach(room);
	}

	/** Stops the sweep, closes outbound pipes and the roster's Redis connections. Idempotent. */
	close(): void {
		if (this.#closed) return;
		this.#closed = true;
		this.#sweep.close();
		this.pipes.close();
		this.roster.close();
	}
}
