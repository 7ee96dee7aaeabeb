import type { Logger } from '../logger/index.js';
import type { RoomRegistry } from '../rooms/index.js';
import type { NodePipes } from './NodePipes.js';
import type { NodeRegistry } from './NodeRegistry.js';
import type { ClusterRecordings } from './ClusterRecordings.js';
import type { RedisRoomState } from './RedisRoomState.js';
import type { RoomRoster } from './RoomRoster.js';

export interface DeadNodeSweepOptions {
	registry: NodeRegistry;
	rooms: RoomRegistry;
	roster: RoomRoster;
	pipes: NodePipes;
	state: RedisRoomState;
	recordings: ClusterRecordings;
	/** Period of the sweep. Default 2000 ms. */
	intervalMs?: number;
	logger: Logger;
}

/**
 * A node that stopped heartbeating (killed, cut off) takes its participants
 * and pipes with it: every sweep, participants mirrored from nodes no longer
 * in the registry leave this node's rooms (and the shared roster), and pipes
 * toward such nodes close.
 */
export class DeadNodeSweep {
	readonly #options: DeadNodeSweepOptions;
	readonly #timer: NodeJS.Timeout;

	constructor(options: DeadNodeSweepOptions) {
		this.#options = options;
		this.#timer = setInterval(() => void this.sweep(), options.intervalMs ?? 2000);
	}

	async sweep(): Promise<void> {
		let live: Set<string>;
		try {
			live = new Set((await this.#options.registry.nodes()).map((n) => n.id));
		} catch {
			return; // Redis down: nothing can be concluded.
		}
		for (const room of this.#options.rooms.rooms()) {
			const dead = new Set<string>();
			for (const peer of room.peers()) {
				if (peer.remote && !live.has(peer.remote.nodeId)) {
					this.#options.logger.info({ roomId: room.id, peerId: peer.id, nodeId: peer.remote.nodeId }, 'participant of a dead node removed');
					dead.add(peer.remote.nodeId);
					void room.mirrors.remove(peer.id, 'disconnected');
					this.#options.roster.forget(room.id, peer.id);
				}
			}
			for (const nodeId of dead) void this.#options.state.dropNode(room.id, nodeId);
		}
		this.#options.pipes.closeOutboundExcept(live);
		await this.#options.recordings.forgetDeadRecorders(live);
	}

	close(): void {
		clearInterval(this.#timer);
	}
}
