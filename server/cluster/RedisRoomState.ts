import { setTimeout as sleep } from 'node:timers/promises';
import type { Redis } from 'ioredis';
import type { Logger } from '../logger/index.js';
import { SfuError } from '../protocol/index.js';
import { LocalAdmissions, type RoomAdmissions } from '../rooms/index.js';
import { createRedisClient } from './redis.js';

/** Keys of one room's shared state. */
const keys = (roomId: string) => ({
	nodes: `sfu:room:${roomId}:nodes`,
	admitted: `sfu:room:${roomId}:admitted`,
	banned: `sfu:room:${roomId}:banned`,
	roster: `sfu:room:${roomId}:roster`,
	recording: `sfu:room:${roomId}:recording`,
	/** Written by the node registry (agreeRoomPolicy). */
	policy: `sfu:room:${roomId}:policy`,
});

/**
 * How long a room's shared state outlives the last refresh: every node hosting
 * the room refreshes it, so it disappears by itself this long after the last
 * one died without closing the room.
 */
const STATE_TTL_MS = 60_000;

/**
 * Removes this node from the room's nodes and, if it was the last, deletes
 * the room's state. Atomic. KEYS: nodes, admitted, banned, roster, recording, policy; ARGV[1] node id.
 */
const LEAVE_SCRIPT = `
redis.call('SREM', KEYS[1], ARGV[1])
if redis.call('SCARD', KEYS[1]) == 0 then
	redis.call('DEL', KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5], KEYS[6])
	return 1
end
return 0
`;

/**
 * A room's state shared by the nodes hosting it, in Redis: which nodes host
 * it, who was admitted and who was removed (RoomAdmissions). Every key of a
 * room expires STATE_TTL_MS after the last refresh and is deleted when the
 * last node hosting the room closes it, so nothing is left behind.
 */
export class RedisRoomState implements RoomAdmissions {
	readonly #nodeId: string;
	readonly #redis: Redis;
	readonly #logger: Logger;
	/** What this node knows itself (used while Redis is unreachable). */
	readonly #local = new LocalAdmissions();
	readonly #refresh: NodeJS.Timeout;
	/** Rooms this node hosts (their state is refreshed). */
	readonly #hosted = new Set<string>();
	/** Leaves under way (close waits for them). */
	readonly #leaving = new Set<Promise<void>>();
	#closed = false;

	constructor(options: { redisUrl: string; nodeId: string; logger: Logger }) {
		this.#nodeId = options.nodeId;
		this.#logger = options.logger;
		this.#redis = createRedisClient(options.redisUrl, { failFast: true });
		this.#refresh = setInterval(() => void this.#refreshAll(), STATE_TTL_MS / 4);
	}

	async isAdmitted(roomId: string, sub: string): Promise<boolean> {
		const shared = await this.#read(roomId, () => this.#redis.sismember(keys(roomId).admitted, sub));
		return shared === null ? this.#local.isAdmitted(roomId, sub) : shared === 1;
	}

	async admit(roomId: string, sub: string): Promise<void> {
		await this.#local.admit(roomId, sub);
		const { admitted } = keys(roomId);
		await this.#write(roomId, () => this.#redis.multi().sadd(admitted, sub).pexpire(admitted, STATE_TTL_MS).exec());
	}

	async isBanned(roomId: string, sub: string): Promise<boolean> {
		const shared = await this.#read(roomId, () => this.#redis.sismember(keys(roomId).banned, sub));
		return shared === null ? this.#local.isBanned(roomId, sub) : shared === 1;
	}

	async ban(roomId: string, sub: string): Promise<void> {
		await this.#local.ban(roomId, sub);
		const { admitted, banned } = keys(roomId);
		await this.#write(roomId, () => this.#redis.multi().srem(admitted, sub).sadd(banned, sub).pexpire(banned, STATE_TTL_MS).exec());
	}

	/** The room closed here: what this node knew of it goes (the shared state goes with the last node). */
	forget(roomId: string): void {
		this.#local.forget(roomId);
	}

	/** This node now hosts the room. */
	async join(roomId: string): Promise<void> {
		this.#hosted.add(roomId);
		const { nodes } = keys(roomId);
		await this.#call(() => this.#redis.multi().sadd(nodes, this.#nodeId).pexpire(nodes, STATE_TTL_MS).exec());
	}

	/** The room closed here; the last node to leave deletes the room's state. */
	leave(roomId: string): Promise<void> {
		this.#hosted.delete(roomId);
		const k = keys(roomId);
		const leaving = this.#redis.eval(LEAVE_SCRIPT, 6, k.nodes, k.admitted, k.banned, k.roster, k.recording, k.policy, this.#nodeId).then(
			() => undefined,
			(error: unknown) => this.#logger.warn({ err: error, roomId }, 'cannot leave a room in the cluster state; it expires by itself'),
		);
		this.#leaving.add(leaving);
		void leaving.finally(() => this.#leaving.delete(leaving));
		return leaving;
	}

	/** The nodes hosting the room (dead ones included until they expire). */
	async nodesOf(roomId: string): Promise<string[]> {
		return this.#call(() => this.#redis.smembers(keys(roomId).nodes));
	}

	/** A dead node no longer hosts anything. */
	async dropNode(roomId: string, nodeId: string): Promise<void> {
		await this.#redis.srem(keys(roomId).nodes, nodeId).catch(() => undefined);
	}

	/** Closes the connection once rooms already closed have left the shared state (a second at most). Idempotent. */
	async close(): Promise<void> {
		if (this.#closed) return;
		this.#closed = true;
		clearInterval(this.#refresh);
		await Promise.race([Promise.allSettled([...this.#leaving]), sleep(1000)]);
		this.#redis.disconnect();
	}

	async #refreshAll(): Promise<void> {
		if (this.#hosted.size === 0) return;
		const pipeline = this.#redis.pipeline();
		for (const roomId of this.#hosted) {
			const k = keys(roomId);
			pipeline.sadd(k.nodes, this.#nodeId);
			for (const key of [k.nodes, k.admitted, k.banned, k.roster, k.recording]) pipeline.pexpire(key, STATE_TTL_MS);
		}
		await pipeline.exec().catch(() => undefined);
	}

	/**
	 * A read of the shared state; null while Redis is unreachable, so the node
	 * falls back on what it knows itself: a call in progress (a participant
	 * resuming after a blip) must not fail because Redis restarts.
	 */
	async #read<T>(roomId: string, command: () => Promise<T>): Promise<T | null> {
		try {
			return await command();
		} catch (error) {
			this.#logger.warn({ err: error, roomId }, 'cluster state (Redis) unreachable: using this node’s own admissions and removals');
			return null;
		}
	}

	/** A write of the shared state; this node already knows it, so the room goes on while Redis is down. */
	async #write(roomId: string, command: () => Promise<unknown>): Promise<void> {
		try {
			await command();
		} catch (error) {
			this.#logger.warn({ err: error, roomId }, 'cluster state (Redis) unreachable: an admission or removal is known to this node only until it is back');
		}
	}

	async #call<T>(command: () => Promise<T>): Promise<T> {
		try {
			return await command();
		} catch (error) {
			throw new SfuError('unavailable', 'the cluster state (Redis) is unreachable; try again shortly', { cause: error });
		}
	}
}

/** The Redis keys of a room's shared state (for the recording claim and tests). */
export const roomStateKeys = keys;
