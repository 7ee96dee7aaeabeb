import { setTimeout as sleep } from 'node:timers/promises';
import type { Redis } from 'ioredis';
import { z } from 'zod';
import type { Logger } from '../logger/index.js';
import { IdSchema, ROLES, SOURCES, type CloseReason, type NotificationMap, type NotificationName } from '../protocol/index.js';
import type { MirrorEntry, Peer, Room, RoomRegistry } from '../rooms/index.js';
import type { NodeRegistry } from './NodeRegistry.js';
import { createRedisClient } from './redis.js';

export interface RoomRosterOptions {
	redisUrl: string;
	registry: NodeRegistry;
	rooms: RoomRegistry;
	logger: Logger;
}

const Entry = z.object({
	nodeId: z.string().min(1).max(128),
	sub: z.string().min(1).max(256),
	state: z.enum(['waiting', 'joined']),
	peer: z.object({
		id: IdSchema,
		role: z.enum(ROLES),
		displayName: z.string().max(256),
		producers: z
			.array(z.object({ id: IdSchema, peerId: IdSchema, kind: z.enum(['audio', 'video']), source: z.enum(SOURCES), paused: z.boolean() }))
			.max(32),
	}),
});

const CLOSE_REASONS = ['left', 'disconnected', 'removed', 'room_ended', 'room_closed', 'expired', 'server_shutdown'] as const satisfies readonly CloseReason[];

/** What goes out on a room's channel. */
const Message = z.discriminatedUnion('op', [
	z.object({ op: z.literal('upsert'), entry: Entry }),
	z.object({ op: z.literal('remove'), nodeId: z.string().max(128), peerId: IdSchema, reason: z.enum(CLOSE_REASONS) }),
	/** A room-wide notification for every node's local participants (a recording starting, …). */
	z.object({ op: z.literal('notify'), nodeId: z.string().max(128), name: z.string().max(64), data: z.unknown() }),
]);
type Message = z.infer<typeof Message>;

/** Notifications another node may send to this node's participants through the roster channel. */
const ROOM_WIDE: ReadonlySet<NotificationName> = new Set<NotificationName>(['recordingState']);

const rosterKey = (roomId: string): string => `sfu:room:${roomId}:roster`;
const channelOf = (roomId: string): string => `sfu:room:${roomId}:events`;
const CHANNEL_PREFIX = 'sfu:room:';
const CHANNEL_SUFFIX = ':events';
const MAX_MESSAGE_BYTES = 64 * 1024;

/**
 * Who is in a room across the cluster: each room's roster is a Redis hash
 * (peer id → node, `sub`, waiting or joined, peer info) whose changes go out
 * on the room's pub/sub channel. Every node publishes its own participants of
 * the rooms it hosts — waiting ones too, so every host sees every waiting
 * patient — and mirrors the others' (Room.mirrors). The same channel carries
 * room-wide notifications to every node's participants.
 */
export class RoomRoster {
	readonly #options: RoomRosterOptions;
	readonly #logger: Logger;
	readonly #redis: Redis;
	readonly #subscriber: Redis;
	/** Roster writes under way (close waits for them). */
	readonly #inflight = new Set<Promise<void>>();
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
		/** Peers of this node on the shared roster: they leave it with the room, too. */
		const onRoster = new Set<string>();
		const publish = (peer: Peer): void => {
			if (!listed(peer) || !peer.hasMedia) return;
			onRoster.add(peer.id);
			void this.#publish(room.id, { op: 'upsert', entry: this.#entry(peer, 'joined') });
		};
		const unlist = (peer: Peer, reason: CloseReason): void => {
			if (!onRoster.delete(peer.id)) return;
			void this.#publish(room.id, { op: 'remove', nodeId: this.#nodeId, peerId: peer.id, reason });
		};
		room.observer.on('peerwaiting', (peer) => {
			if (!listed(peer)) return;
			onRoster.add(peer.id);
			void this.#publish(room.id, { op: 'upsert', entry: this.#entry(peer, 'waiting') });
		});
		// Admitted: off the waiting lists until it joins (then listed as joined).
		room.observer.on('peerwaitend', (peer) => unlist(peer, 'left'));
		room.observer.on('peerjoined', publish);
		room.observer.on('producernew', publish);
		room.observer.on('producerclose', publish);
		room.observer.on('producerpause', publish);
		room.observer.on('producerresume', publish);
		room.observer.on('peerleft', unlist);
		room.observer.once('close', () => {
			void this.#unsubscribe(room.id);
			for (const peerId of onRoster) void this.#publish(room.id, { op: 'remove', nodeId: this.#nodeId, peerId, reason: 'server_shutdown' });
			onRoster.clear();
		});
		try {
			await this.#subscriber.subscribe(channelOf(room.id));
			const live = new Set((await this.#options.registry.nodes()).map((n) => n.id));
			const roster = await this.#redis.hgetall(rosterKey(room.id));
			for (const value of Object.values(roster)) {
				const entry = this.#parseEntry(value);
				if (entry && entry.nodeId !== this.#nodeId && live.has(entry.nodeId)) await room.mirrors.upsert(entry);
			}
		} catch (error) {
			this.#logger.error({ err: error, roomId: room.id }, 'cannot read the room roster: participants on other nodes are not visible yet');
		}
	}

	/** Sends a room-wide notification to the room's participants on every other node. */
	notify<N extends NotificationName>(roomId: string, name: N, data: NotificationMap[N]): void {
		void this.#send(roomId, { op: 'notify', nodeId: this.#nodeId, name, data });
	}

	/** Drops a participant of a dead node from the shared roster. */
	forget(roomId: string, peerId: string): void {
		void this.#redis.hdel(rosterKey(roomId), peerId).catch(() => undefined);
	}

	/**
	 * Closes both Redis connections once the changes already sent out (this
	 * node's participants leaving with its rooms) are written, or after a
	 * second at most. Idempotent.
	 */
	async close(): Promise<void> {
		if (this.#closed) return;
		this.#closed = true;
		await Promise.race([Promise.allSettled([...this.#inflight]), sleep(1000)]);
		this.#subscriber.disconnect();
		this.#redis.disconnect();
	}

	#entry(peer: Peer, state: MirrorEntry['state']): MirrorEntry {
		return { nodeId: this.#nodeId, sub: peer.identity.sub, state, peer: peer.info() };
	}

	async #unsubscribe(roomId: string): Promise<void> {
		try {
			await this.#subscriber.unsubscribe(channelOf(roomId));
		} catch {
			// Redis down: the subscription dies with the connection.
		}
	}

	#publish(roomId: string, message: Extract<Message, { op: 'upsert' | 'remove' }>): Promise<void> {
		const write = this.#write(roomId, message);
		this.#inflight.add(write);
		void write.finally(() => this.#inflight.delete(write));
		return write;
	}

	async #write(roomId: string, message: Extract<Message, { op: 'upsert' | 'remove' }>): Promise<void> {
		try {
			if (message.op === 'upsert') await this.#redis.hset(rosterKey(roomId), message.entry.peer.id, JSON.stringify(message.entry));
			else await this.#redis.hdel(rosterKey(roomId), message.peerId);
		} catch (error) {
			this.#logger.warn({ err: error, roomId }, 'cannot publish a roster change: other nodes will not see it until Redis is back');
			return;
		}
		await this.#send(roomId, message);
	}

	async #send(roomId: string, message: Message): Promise<void> {
		try {
			await this.#redis.publish(channelOf(roomId), JSON.stringify(message));
		} catch (error) {
			this.#logger.warn({ err: error, roomId }, 'cannot reach the other nodes of a room: Redis is unreachable');
		}
	}

	#parseEntry(text: string): MirrorEntry | null {
		try {
			const entry = Entry.safeParse(JSON.parse(text));
			return entry.success ? entry.data : null;
		} catch {
			return null;
		}
	}

	#onMessage(channel: string, text: string): void {
		if (!channel.startsWith(CHANNEL_PREFIX) || !channel.endsWith(CHANNEL_SUFFIX) || text.length > MAX_MESSAGE_BYTES) return;
		const roomId = channel.slice(CHANNEL_PREFIX.length, -CHANNEL_SUFFIX.length);
		const room = this.#options.rooms.get(roomId);
		if (!room || room.closed) return;
		let parsed: unknown;
		try {
			parsed = JSON.parse(text);
		} catch {
			return;
		}
		const message = Message.safeParse(parsed);
		if (!message.success) {
			this.#logger.warn({ roomId }, 'dropped a malformed roster message');
			return;
		}
		const data = message.data;
		if (data.op === 'upsert') {
			if (data.entry.nodeId === this.#nodeId) return;
			room.mirrors.upsert(data.entry).catch((error: Error) => this.#logger.warn({ err: error, roomId }, 'cannot mirror a remote participant'));
		} else if (data.op === 'remove') {
			if (data.nodeId !== this.#nodeId) void room.mirrors.remove(data.peerId, data.reason);
		} else if (data.nodeId !== this.#nodeId && ROOM_WIDE.has(data.name as NotificationName)) {
			// The sending node built it from the protocol's own types; only room-wide names pass.
			room.broadcast(data.name as 'recordingState', data.data as NotificationMap['recordingState']);
		}
	}

	get #nodeId(): string {
		return this.#options.registry.nodeId;
	}
}
