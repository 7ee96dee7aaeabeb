import type { Peer, Room } from '../rooms/index.js';
import { ClusterRecordings } from './ClusterRecordings.js';
import { ClusterRoomControl } from './ClusterRoomControl.js';
import { DeadNodeSweep } from './DeadNodeSweep.js';
import { NodeBus } from './NodeBus.js';
import { NodePipes, type NodePipesOptions } from './NodePipes.js';
import type { RedisRoomState } from './RedisRoomState.js';
import { RoomRoster } from './RoomRoster.js';

export interface ClusterRoomsOptions extends NodePipesOptions {
	redisUrl: string;
	/** The rooms' shared state (also the registry's admissions). */
	state: RedisRoomState;
	/** Period of the sweep that forgets dead nodes' participants. Default 2000 ms. */
	sweepMs?: number;
}

/**
 * Rooms that span nodes: each node hosts its own participants, the roster
 * (Redis) makes every node see everyone — waiting patients included — and
 * carries room-wide notifications, pipes bring media across on demand, host
 * actions reach the node of the participant they concern (the node bus),
 * admissions and removals are shared, and a sweep forgets nodes that died.
 */
export class ClusterRooms {
	readonly roster: RoomRoster;
	/** The node-to-node media pipes (their internal HTTP routes are http/'s). */
	readonly pipes: NodePipes;
	readonly bus: NodeBus;
	/** Admissions, removals and the nodes hosting each room, shared in Redis. */
	readonly state: RedisRoomState;
	/** Host actions across nodes (the rooms/ RoomControl port). */
	readonly control: ClusterRoomControl;
	/** A room's one recording across nodes (the recording/ RecordingCluster port). */
	readonly recordings: ClusterRecordings;
	readonly #options: ClusterRoomsOptions;
	readonly #sweep: DeadNodeSweep;
	#closed = false;

	constructor(options: ClusterRoomsOptions) {
		this.#options = options;
		const nodeId = options.registry.nodeId;
		this.roster = new RoomRoster({ redisUrl: options.redisUrl, registry: options.registry, rooms: options.rooms, logger: options.logger });
		this.pipes = new NodePipes(options);
		this.bus = new NodeBus({ redisUrl: options.redisUrl, nodeId, logger: options.logger });
		this.state = options.state;
		this.control = new ClusterRoomControl({ bus: this.bus, registry: options.registry, rooms: options.rooms, nodesOf: (roomId) => this.state.nodesOf(roomId), logger: options.logger });
		this.recordings = new ClusterRecordings({ redisUrl: options.redisUrl, nodeId, bus: this.bus, rooms: options.rooms, registry: options.registry, nodesOf: (roomId) => this.state.nodesOf(roomId), logger: options.logger });
		this.#sweep = new DeadNodeSweep({
			registry: options.registry,
			rooms: options.rooms,
			roster: this.roster,
			pipes: this.pipes,
			state: this.state,
			recordings: this.recordings,
			...(options.sweepMs ? { intervalMs: options.sweepMs } : {}),
			logger: options.logger,
		});
	}

	/**
	 * A room opened here: it reaches its other nodes through pipes and the
	 * roster channel, joins the shared roster, and is known to host the room.
	 */
	async attach(room: Room): Promise<void> {
		room.link = {
			pipeIn: (r, owner, producerId) => this.pipes.pipeIn(r, owner, producerId),
			consumerOpened: (producerId, consumer) => this.pipes.consumerOpened(producerId, consumer),
			broadcast: (r, name, data) => this.roster.notify(r.id, name, data),
		};
		room.observer.once('close', () => {
			room.link = null;
			void this.state.leave(room.id);
		});
		// One person, one presence: joining here retires an older connection on another node.
		const retireElsewhere = (peer: Peer): void => {
			for (const other of room.peers()) {
				if (other.remote && other.identity.sub === peer.identity.sub) {
					this.control.evict(room, peer.identity.sub, other.remote.nodeId).catch((error: Error) => this.#options.logger.warn({ err: error, roomId: room.id }, 'could not retire an older connection on another node'));
				}
			}
		};
		room.observer.on('peerjoined', retireElsewhere);
		room.observer.on('peerwaiting', retireElsewhere);
		this.recordings.attach(room);
		await this.state.join(room.id).catch((error: Error) => this.#options.logger.warn({ err: error, roomId: room.id }, 'cannot register this node as hosting the room'));
		await this.roster.attach(room);
	}

	/**
	 * Stops the sweep, closes outbound pipes and the bus, and closes the Redis
	 * connections once this node's last roster changes are written. Idempotent.
	 */
	async close(): Promise<void> {
		if (this.#closed) return;
		this.#closed = true;
		this.#sweep.close();
		this.pipes.close();
		this.bus.close();
		this.recordings.close();
		await Promise.all([this.roster.close(), this.state.close()]);
	}
}
