import type { Redis } from 'ioredis';
import type { Logger } from '../logger/index.js';
import type { CloseReason, PeerInfo } from '../protocol/index.js';
import type { Peer, Room, RoomRegistry } from '../rooms/index.js';
import type { NodeRegistry } from './NodeRegistry.js';
import { createRedisClient } from './redis.js';

export interface RoomRosterOptions {
	redisUrl: string;
	registry: NodeRegistry;
	rooms: RoomRegistry;
	logger: Logger;
}

interface RosterEntry {
	nodeId: string;
	peer: PeerInfo;
}

type RosterMessage = { nodeId: string; op: 'upsert'; peer: PeerInfo } | { nodeId: string; op: 'remove'; peerId: string; reason: CloseReason };

const rosterKey = (roomId: string): string => `sfu:room:${roomId}:roster`;
const channelOf = (roomId: string): string => `sfu:room:${roomId}:events`;
const CHANNEL_PREFIX = 'sfu:room:';
const CHANNEL_SUFFIX = ':events';

/**
 * Who is in a room across the cluster: each room's roster is a Redis hash
 * (peer id → node and peer info) whose changes go out on a pub/sub channel.
 * Every node publishes its own participants of the rooms it hosts and mirrors
 * the others' (Room.mirrors).
 */
export class RoomRoster {
	readonly #options: RoomRosterOptions;
	readonly #logger: Logger;
	readonly #redis: Redis;
	readonly #subscriber: Redis;
	#closed = false;

	constructor(options: RoomRosterOptions) {
		this.#options = options;
		this.#logger = options.logger;
		this.#redis = createRedisClient(options.redisUrl);
		this.#subscriber = createRedisClient(options.redisUrl);
		this.#subscriber.on('message', (channel: string, message: string) => this.#onMessage(channel, message));
	}

	/** Follows a room that just opened here: publishes its participants, mirrors the others'. */
	async attach(room: Room): Promise<void> {
		// Viewers of a broadcast stay off the shared roster: hundreds of them
		// would be hundreds of messages to every node for nothing.
		const listed = (peer: Peer): boolean => !peer.remote && !(room.policy.type === 'broadcast' && peer.role === 'observer');
		const publish = (peer: Peer): void => {
			if (listed(peer) && peer.hasMedia) void this.#publish(room.id, { nodeId: this.#nodeId, op: 'upsert', peer: peer.info() });
		};
		room.observer.on('peerjoined', publish);
		room.observer.on('producernew', publish);
		room.observer.on('producerclose', publish);
		room.observer.on('producerpause', publish);
		room.observer.on('producerresume', publish);
		room.observer.on('peerleft', (peer, reason) => {
			if (listed(peer)) void this.#publish(room.id, { nodeId: this.#nodeId, op: 'remove', peerId: peer.id, reason });
		});
		room.observer.once('close', () => void this.#unsubscribe(room.id));
		try {
			await this.#subscriber.subscribe(channelOf(room.id));
			const live = new Set((await this.#options.registry.nodes()).map((n) => n.id));
			const roster = await this.#redis.hgetall(rosterKey(room.id));
			for (const value of Object.values(roster)) {
				const entry = JSON.parse(value) as RosterEntry;
				if (entry.nodeId !== this.#nodeId && live.has(entry.nodeId)) await room.mirrors.upsert(entry.peer, entry.nodeId);
			}
		} catch (error) {
			this.#logger.error({ err: error, roomId: room.id }, 'cannot read the room roster: participants on other nodes are not visible yet');
		}
	}

	/** Drops a participant of a dead node from the shared roster. */
	forget(roomId: string, peerId: string): void {
		void this.#redis.hdel(rosterKey(roomId), peerId).catch(() => undefined);
	}

	/** Closes both Redis connections. Idempotent. */
	close(): void {
		if (this.#closed) return;
		this.#closed = true;
		this.#subscriber.disconnect();
		this.#redis.disconnect();
	}

	async #unsubscribe(roomId: string): Promise<void> {
		try {
			await this.#subscriber.unsubscribe(channelOf(roomId));
		} catch {
			// Redis down: the subscription dies with the connection.
		}
	}

	async #publish(roomId: string, message: RosterMessage): Promise<void> {
		try {
			if (message.op === 'upsert') await this.#redis.hset(rosterKey(roomId), message.peer.id, JSON.stringify({ nodeId: message.nodeId, peer: message.peer } satisfies RosterEntry));
			else await this.#redis.hdel(rosterKey(roomId), message.peerId);
			await this.#redis.publish(channelOf(roomId), JSON.stringify(message));
		} catch (error) {
			this.#logger.warn({ err: error, roomId }, 'cannot publish a roster change: other nodes will not see it until Redis is back');
		}
	}

	#onMessage(channel: string, text: string): void {
		if (!channel.startsWith(CHANNEL_PREFIX) || !channel.endsWith(CHANNEL_SUFFIX)) return;
		const roomId = channel.slice(CHANNEL_PREFIX.length, -CHANNEL_SUFFIX.length);
		const room = this.#options.rooms.get(roomId);
		if (!room || room.closed) return;
		let message: RosterMessage;
		try {
			message = JSON.parse(text) as RosterMessage;
		} catch {
			return;
		}
		if (message.nodeId === this.#nodeId) return;
		if (message.op === 'upsert') {
			room.mirrors.upsert(message.peer, message.nodeId).catch((error: Error) => this.#logger.warn({ err: error, roomId }, 'cannot mirror a remote participant'));
		} else {
			room.mirrors.remove(message.peerId, message.reason);
		}
	}

	get #nodeId(): string {
		return this.#options.registry.nodeId;
	}
}
