import { EventEmitter } from 'node:events';
import type { Redis } from 'ioredis';
import { SfuError } from '../protocol/index.js';
import type { Logger } from '../logger/index.js';
import { createRedisClient } from './redis.js';
import { leastLoaded, type NodeInfo, type NodeRegistry, type NodeRegistryEvents } from './NodeRegistry.js';

export interface RedisNodeRegistryOptions {
	redisUrl: string;
	/** This node's record, read at every heartbeat. */
	self: () => NodeInfo;
	/** Rooms open on this node: their claims are kept alive (and re-made after a Redis restart). */
	localRooms: () => string[];
	heartbeatMs: number;
	logger: Logger;
}

const PREFIX = 'sfu:';
const nodeKey = (id: string): string => `${PREFIX}node:${id}`;
const nodeRoomsKey = (id: string): string => `${PREFIX}node:${id}:rooms`;
const roomKey = (id: string): string => `${PREFIX}room:${id}`;

/**
 * Claims a room for `target` unless a live owner holds it: sets the key when
 * it is missing or names a node without a live record (its heartbeat
 * expired), and records the room in the owner's set. Atomic in Redis.
 * KEYS[1] room key, ARGV[1] target node, ARGV[2] ttl ms, ARGV[3] node key prefix.
 */
const CLAIM_SCRIPT = `
local owner = redis.call('GET', KEYS[1])
if owner and redis.call('EXISTS', ARGV[3] .. owner) == 1 then
	return {owner, 0}
end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
redis.call('SADD', ARGV[3] .. ARGV[1] .. ':rooms', string.sub(KEYS[1], string.len('${PREFIX}room:') + 1))
return {ARGV[1], 1}
`;

/** Deletes a room claim only if it is still ours. KEYS[1] room key, ARGV[1] node id. */
const RELEASE_SCRIPT = `
if redis.call('GET', KEYS[1]) == ARGV[1] then
	return redis.call('DEL', KEYS[1])
end
return 0
`;

/**
 * Cluster state in Redis: each node heartbeats a record with a TTL of three
 * heartbeats (so a killed node disappears by itself), and rooms are claimed
 * with atomic scripts. While Redis is unreachable, calls fail at once with
 * `unavailable` (no offline queue) and existing calls are untouched; the
 * heartbeat resumes, and re-asserts this node's claims, when it is back.
 */
export class RedisNodeRegistry extends EventEmitter<NodeRegistryEvents> implements NodeRegistry {
	readonly mode = 'redis' as const;
	readonly nodeId: string;
	readonly #options: RedisNodeRegistryOptions;
	readonly #redis: Redis;
	readonly #ttlMs: number;
	#timer: NodeJS.Timeout | null = null;
	#available = true;
	#roundTripMs: number | null = null;
	#closed = false;

	constructor(options: RedisNodeRegistryOptions) {
		super();
		this.#options = options;
		this.nodeId = options.self().id;
		this.#ttlMs = options.heartbeatMs * 3;
		// The heartbeat logs Redis going away and coming back, once each.
		this.#redis = createRedisClient(options.redisUrl, { lazy: true, failFast: true });
	}

	get roundTripMs(): number | null {
		return this.#roundTripMs;
	}

	/** Starts heartbeating; a Redis that is down at boot is retried, not fatal. */
	async start(): Promise<void> {
		try {
			await this.#redis.connect();
		} catch (error) {
			this.#options.logger.error({ err: error }, 'cluster state (Redis) unreachable at start; retrying');
			this.#available = false;
			this.emit('unavailable', error as Error);
		}
		await this.#heartbeat();
		this.#timer = setInterval(() => void this.#heartbeat(), this.#options.heartbeatMs);
	}

	async announce(): Promise<void> {
		await this.#heartbeat();
	}

	async nodes(): Promise<NodeInfo[]> {
		return this.#guard(async () => {
			const keys: string[] = [];
			let cursor = '0';
			do {
				const [next, batch] = await this.#redis.scan(cursor, 'MATCH', `${PREFIX}node:*`, 'COUNT', 200);
				cursor = next;
				keys.push(...batch.filter((key) => !key.endsWith(':rooms')));
			} while (cursor !== '0');
			if (keys.length === 0) return [];
			const values = await this.#redis.mget(keys);
			return values.flatMap((value) => (value ? [JSON.parse(value) as NodeInfo] : []));
		});
	}

	async claimRoom(roomId: string): Promise<{ originNodeId: string; claimedNow: boolean }> {
		return this.#guard(async () => {
			const self = this.#options.self();
			// The node the client reached takes the room while it can; an
			// overloaded one hands it to the least-loaded ready node.
			const target = self.ready ? self.id : (leastLoaded(await this.nodes())?.id ?? self.id);
			const [owner, claimed] = (await this.#redis.eval(CLAIM_SCRIPT, 1, roomKey(roomId), target, String(this.#ttlMs), `${PREFIX}node:`)) as [string, number];
			if (claimed) this.#options.logger.info({ roomId, originNodeId: owner }, 'room claimed');
			return { originNodeId: owner, claimedNow: claimed === 1 };
		});
	}

	async agreeRoomPolicy<T extends object>(roomId: string, proposed: T): Promise<T> {
		return this.#guard(async () => {
			const key = `${roomKey(roomId)}:policy`;
			// A day outlives any session; a room reopened later gets a fresh policy.
			await this.#redis.set(key, JSON.stringify(proposed), 'PX', 24 * 3600 * 1000, 'NX');
			const agreed = await this.#redis.get(key);
			return agreed ? (JSON.parse(agreed) as T) : proposed;
		});
	}

	async releaseRoom(roomId: string): Promise<void> {
		await this.#guard(async () => {
			await this.#redis.eval(RELEASE_SCRIPT, 1, roomKey(roomId), this.nodeId);
			await this.#redis.srem(nodeRoomsKey(this.nodeId), roomId);
		});
	}

	/** The origin node of a room, if any live claim exists. */
	async originOf(roomId: string): Promise<string | null> {
		return this.#guard(() => this.#redis.get(roomKey(roomId)));
	}

	async close(): Promise<void> {
		if (this.#closed) return;
		this.#closed = true;
		if (this.#timer) clearInterval(this.#timer);
		try {
			// Leaving on purpose: our rooms may be re-homed at once.
			const rooms = await this.#redis.smembers(nodeRoomsKey(this.nodeId));
			for (const roomId of rooms) await this.#redis.eval(RELEASE_SCRIPT, 1, roomKey(roomId), this.nodeId);
			await this.#redis.del(nodeKey(this.nodeId), nodeRoomsKey(this.nodeId));
		} catch {
			// Redis is down: the TTLs clean up.
		}
		this.#redis.disconnect();
	}

	async #heartbeat(): Promise<void> {
		if (this.#closed) return;
		const started = process.hrtime.bigint();
		try {
			const self = this.#options.self();
			await this.#redis.set(nodeKey(self.id), JSON.stringify(self), 'PX', this.#ttlMs);
			// Keep the claims of our open rooms alive. A room whose claim is gone
			// (Redis restarted) or whose origin died is re-homed here; a room whose
			// origin is another live node is one we serve as an edge.
			const rooms = this.#options.localRooms();
			for (const roomId of rooms) {
				const owner = await this.#redis.get(roomKey(roomId));
				if (owner === self.id) await this.#redis.pexpire(roomKey(roomId), this.#ttlMs);
				else if (owner === null || (await this.#redis.exists(nodeKey(owner))) === 0) {
					const [newOwner, claimed] = (await this.#redis.eval(CLAIM_SCRIPT, 1, roomKey(roomId), self.id, String(this.#ttlMs), `${PREFIX}node:`)) as [string, number];
					if (claimed) this.#options.logger.info({ roomId, originNodeId: newOwner, previous: owner }, 'room re-homed to this node');
				}
			}
			await this.#redis.pexpire(nodeRoomsKey(self.id), this.#ttlMs * 10);
			this.#roundTripMs = Number(process.hrtime.bigint() - started) / 1e6 / (3 + rooms.length);
			if (!this.#available) {
				this.#available = true;
				this.#options.logger.info('cluster state reachable again');
				this.emit('available');
			}
		} catch (error) {
			this.#roundTripMs = null;
			if (this.#available) {
				this.#available = false;
				this.#options.logger.error({ err: error }, 'cluster state (Redis) unreachable');
				this.emit('unavailable', error as Error);
			}
		}
	}

	async #guard<T>(work: () => Promise<T>): Promise<T> {
		try {
			return await work();
		} catch (error) {
			throw new SfuError('unavailable', `cluster state is unreachable (${(error as Error).message}); try again shortly`);
		}
	}
}
