import { EventEmitter } from 'node:events';
import { z } from 'zod';
import type { Logger } from '../logger/index.js';
import { IdSchema, RoomIdSchema, SfuError, SOURCES, type Source } from '../protocol/index.js';
import { LocalRoomControl, type Room, type RoomControl, type RoomControlObserverEvents, type RoomRegistry } from '../rooms/index.js';
import type { NodeBus } from './NodeBus.js';
import type { NodeRegistry } from './NodeRegistry.js';

export interface ClusterRoomControlOptions {
	bus: NodeBus;
	registry: NodeRegistry;
	rooms: RoomRegistry;
	/** The nodes hosting a room (this one included), as the cluster knows them. */
	nodesOf: (roomId: string) => Promise<string[]>;
	logger: Logger;
}

const Target = z.strictObject({ roomId: RoomIdSchema, peerId: IdSchema });
const Mute = z.strictObject({ roomId: RoomIdSchema, peerId: IdSchema, source: z.enum(SOURCES) });
const RoomOnly = z.strictObject({ roomId: RoomIdSchema });
const Evict = z.strictObject({ roomId: RoomIdSchema, sub: z.string().min(1).max(256) });

/**
 * Room control across nodes. An action on a participant of this node is
 * carried out here; one on a participant of another node is sent to that
 * node over the node bus and answered once it acted there (its error, or
 * `unavailable` when the node is gone or silent). Ending a room reaches every
 * node hosting it. The executing node runs the action on behalf of the host
 * (its audit trail names them); this node's observer reports it too.
 */
export class ClusterRoomControl implements RoomControl {
	readonly observer = new EventEmitter<RoomControlObserverEvents>();
	readonly #options: ClusterRoomControlOptions;
	readonly #local = new LocalRoomControl();

	constructor(options: ClusterRoomControlOptions) {
		this.#options = options;
		const { bus } = options;
		bus.handle('room.admit', { schema: Target, handle: async ({ roomId, peerId }) => this.#local.admit(this.#room(roomId), peerId) });
		bus.handle('room.deny', { schema: Target, handle: async ({ roomId, peerId }) => this.#local.deny(this.#room(roomId), peerId) });
		bus.handle('room.mute', { schema: Mute, handle: async ({ roomId, peerId, source }) => this.#local.mute(this.#room(roomId), peerId, source) });
		bus.handle('room.remove', { schema: Target, handle: async ({ roomId, peerId }) => this.#local.remove(this.#room(roomId), peerId) });
		bus.handle('room.end', {
			schema: RoomOnly,
			handle: async ({ roomId }) => {
				const room = options.rooms.get(roomId);
				if (room && !room.closed) room.close('ended_by_host');
			},
		});
		bus.handle('room.evict', {
			schema: Evict,
			handle: async ({ roomId, sub }) => {
				const room = options.rooms.get(roomId);
				const peer = room?.localPeers().find((p) => p.identity.sub === sub && p.state !== 'closed');
				if (room && peer) room.remove(peer, 'disconnected');
			},
		});
	}

	async admit(room: Room, peerId: string): Promise<void> {
		await this.#route(room, peerId, 'admit', () => this.#local.admit(room, peerId));
	}

	async deny(room: Room, peerId: string): Promise<void> {
		await this.#route(room, peerId, 'deny', () => this.#local.deny(room, peerId));
	}

	mute(room: Room, peerId: string, source: Source): Promise<string[]> {
		return this.#route(room, peerId, 'mute', () => this.#local.mute(room, peerId, source), { source });
	}

	async remove(room: Room, peerId: string): Promise<void> {
		await this.#route(room, peerId, 'remove', () => this.#local.remove(room, peerId));
	}

	/**
	 * Every other node hosting the room closes it first, then this one: the
	 * host's answer says whether every node confirmed.
	 */
	async end(room: Room): Promise<void> {
		const nodes = await this.#otherNodes(room.id);
		const results = await Promise.allSettled(nodes.map((node) => this.#options.bus.request(node, 'room.end', { roomId: room.id })));
		await this.#local.end(room);
		const failed = nodes.filter((_node, i) => results[i]?.status === 'rejected');
		if (failed.length > 0) {
			this.#options.logger.warn({ roomId: room.id, nodes: failed }, 'nodes did not confirm the end of a room');
			throw new SfuError('unavailable', `the room ended here, but ${failed.length} other node(s) did not confirm`);
		}
	}

	/**
	 * A participant joined this node while another node still holds an older
	 * connection of the same person (a network switch through the load
	 * balancer, a second tab): that node lets the old one go.
	 */
	async evict(room: Room, sub: string, nodeId: string): Promise<void> {
		await this.#options.bus.request(nodeId, 'room.evict', { roomId: room.id, sub });
	}

	async #route<R>(room: Room, peerId: string, action: 'admit' | 'deny' | 'mute' | 'remove', local: () => Promise<R>, extra: Record<string, unknown> = {}): Promise<R> {
		const target = room.peer(peerId);
		if (!target.remote) return local();
		const nodeId = target.remote.nodeId;
		if (!(await this.#isLive(nodeId))) throw new SfuError('unavailable', "that participant's node is gone");
		const answer = await this.#options.bus.request<R>(nodeId, `room.${action}`, { roomId: room.id, peerId, ...extra });
		if (action !== 'mute') {
			this.observer.emit('remoteaction', { action, roomId: room.id, target: { peerId, sub: target.identity.sub, role: target.role }, executedOn: nodeId });
		}
		return answer;
	}

	async #otherNodes(roomId: string): Promise<string[]> {
		const [hosting, live] = await Promise.all([this.#options.nodesOf(roomId), this.#options.registry.nodes()]);
		const liveIds = new Set(live.map((n) => n.id));
		return hosting.filter((id) => id !== this.#options.bus.nodeId && liveIds.has(id));
	}

	async #isLive(nodeId: string): Promise<boolean> {
		return (await this.#options.registry.nodes()).some((n) => n.id === nodeId);
	}

	#room(roomId: string): Room {
		const room = this.#options.rooms.get(roomId);
		if (!room || room.closed) throw new SfuError('not_found', 'no such room on this node');
		return room;
	}
}
