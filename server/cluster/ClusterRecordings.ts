import type { Redis } from 'ioredis';
import { z } from 'zod';
import type { Logger } from '../logger/index.js';
import { IdSchema, RoomIdSchema, SfuError } from '../protocol/index.js';
import type { RecordingCluster, RecordingHandover, RecordingService, RecordingState } from '../recording/index.js';
import type { Peer, Room, RoomRegistry } from '../rooms/index.js';
import type { NodeBus } from './NodeBus.js';
import { leastLoaded, type NodeRegistry } from './NodeRegistry.js';
import { roomStateKeys } from './RedisRoomState.js';
import { createRedisClient } from './redis.js';

export interface ClusterRecordingsOptions {
	redisUrl: string;
	nodeId: string;
	bus: NodeBus;
	rooms: RoomRegistry;
	registry: NodeRegistry;
	/** The nodes hosting a room. */
	nodesOf: (roomId: string) => Promise<string[]>;
	logger: Logger;
}

/** What the recording key holds: which node records the room, and what everyone is shown. */
interface Claim {
	nodeId: string;
	recordingId: string;
	state: RecordingState | null;
}

/** Lives as long as a room's other shared state (refreshed by RedisRoomState while the room is hosted). */
const CLAIM_TTL_MS = 60_000;

/**
 * Claims the room's recording unless a live node holds it. KEYS[1] recording
 * key; ARGV[1] claim JSON, ARGV[2] ttl ms, ARGV[3] node key prefix.
 */
const CLAIM_SCRIPT = `
local current = redis.call('GET', KEYS[1])
if current then
	local owner = cjson.decode(current).nodeId
	if redis.call('EXISTS', ARGV[3] .. owner) == 1 then return owner end
end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
return false
`;

/** Replaces or deletes the claim only while it is this recording's. KEYS[1]; ARGV[1] recording id, ARGV[2] new JSON or ''. */
const UPDATE_SCRIPT = `
local current = redis.call('GET', KEYS[1])
if not current or cjson.decode(current).recordingId ~= ARGV[1] then return 0 end
if ARGV[2] == '' then return redis.call('DEL', KEYS[1]) end
redis.call('SET', KEYS[1], ARGV[2], 'KEEPTTL')
return 1
`;

const StopRequest = z.strictObject({ roomId: RoomIdSchema });
const ContinueRequest = z.strictObject({
	roomId: RoomIdSchema,
	requireConsent: z.boolean(),
	consents: z.array(z.string().min(1).max(256)).max(1000),
	continuesFrom: IdSchema,
	policy: z.strictObject({ waitingRoom: z.boolean(), type: z.enum(['consult', 'broadcast']).optional() }),
});
const ConsentRequest = z.strictObject({ roomId: RoomIdSchema, peerId: IdSchema, consent: z.boolean() });

/**
 * A room's one recording across the cluster (the recording/ RecordingCluster
 * port): the recording node claims it in Redis and publishes its state
 * there; the room's other nodes route stop and consent to it over the node
 * bus, greet their late joiners with its state, and — if it dies — tell their
 * participants the recording stopped.
 */
export class ClusterRecordings implements RecordingCluster {
	readonly #options: ClusterRecordingsOptions;
	readonly #redis: Redis;
	#closed = false;

	constructor(options: ClusterRecordingsOptions) {
		this.#options = options;
		this.#redis = createRedisClient(options.redisUrl, { failFast: true });
	}

	/** This node's recordings answer other nodes: stop, and consent of their participants. */
	serve(recordings: RecordingService): void {
		this.#options.bus.handle('recording.stop', { schema: StopRequest, handle: async ({ roomId }) => recordings.stop(roomId) });
		this.#options.bus.handle('recording.consent', {
			schema: ConsentRequest,
			handle: async ({ roomId, peerId, consent }) => recordings.setRemoteConsent(roomId, peerId, consent),
		});
		this.#options.bus.handle('recording.continue', {
			schema: ContinueRequest,
			handle: async (plan) => {
				// The room may not be open here yet: its people are on their way from the stopping node.
				const room = await this.#options.rooms.getOrCreate(plan.roomId, plan.policy);
				const recording = await recordings.start(room, { requireConsent: plan.requireConsent, consents: plan.consents, continuesFrom: plan.continuesFrom });
				return { recordingId: recording.id };
			},
		});
	}

	/**
	 * Another live, ready node — one already hosting the room if any — starts
	 * a recording continuing this node's.
	 */
	async continueElsewhere(plan: RecordingHandover): Promise<{ recordingId: string; nodeId: string }> {
		const [hosting, nodes] = await Promise.all([this.#options.nodesOf(plan.roomId), this.#options.registry.nodes()]);
		const candidates = nodes.filter((n) => n.id !== this.#options.nodeId && n.ready);
		const target = candidates.find((n) => hosting.includes(n.id)) ?? leastLoaded(candidates);
		if (!target) throw new SfuError('unavailable', 'no other node can continue the recording');
		const { recordingId } = await this.#options.bus.request<{ recordingId: string }>(target.id, 'recording.continue', plan);
		return { recordingId, nodeId: target.id };
	}

	/** Late joiners and returning participants of this node see a recording another node runs. */
	attach(room: Room): void {
		const greet = (peer: Peer): void => {
			void this.remoteState(room.id).then(
				(remote) => {
					if (remote?.state?.active && peer.state !== 'closed') peer.notify('recordingState', remote.state);
				},
				() => undefined,
			);
		};
		room.observer.on('peerjoined', greet);
		room.observer.on('peerresumed', greet);
	}

	async claim(roomId: string, recordingId: string): Promise<void> {
		const claim: Claim = { nodeId: this.#options.nodeId, recordingId, state: null };
		let owner: unknown;
		try {
			owner = await this.#redis.eval(CLAIM_SCRIPT, 1, roomStateKeys(roomId).recording, JSON.stringify(claim), CLAIM_TTL_MS, 'sfu:node:');
		} catch (error) {
			throw new SfuError('unavailable', 'the cluster state (Redis) is unreachable; try again shortly', { cause: error });
		}
		if (typeof owner === 'string') throw new SfuError('invalid_state', 'this room is already being recorded (on another node)');
	}

	publish(roomId: string, state: RecordingState): void {
		const claim: Claim = { nodeId: this.#options.nodeId, recordingId: state.recordingId, state };
		this.#redis.eval(UPDATE_SCRIPT, 1, roomStateKeys(roomId).recording, state.recordingId, JSON.stringify(claim)).catch((error: Error) => {
			this.#options.logger.warn({ err: error, roomId }, 'cannot publish the recording state to the cluster');
		});
	}

	async release(roomId: string, recordingId: string): Promise<void> {
		await this.#redis.eval(UPDATE_SCRIPT, 1, roomStateKeys(roomId).recording, recordingId, '');
	}

	async remoteState(roomId: string): Promise<{ nodeId: string; state: RecordingState } | null> {
		const claim = await this.#read(roomId);
		if (!claim?.state || claim.nodeId === this.#options.nodeId) return null;
		return { nodeId: claim.nodeId, state: claim.state };
	}

	async stop(roomId: string): Promise<{ recordingId: string }> {
		const remote = await this.remoteState(roomId);
		if (!remote?.state.active) throw new SfuError('invalid_state', 'this room is not being recorded');
		return this.#options.bus.request<{ recordingId: string }>(remote.nodeId, 'recording.stop', { roomId });
	}

	async setConsent(roomId: string, peerId: string, consent: boolean): Promise<void> {
		const remote = await this.remoteState(roomId);
		if (!remote?.state.active) throw new SfuError('invalid_state', 'this room is not being recorded');
		await this.#options.bus.request(remote.nodeId, 'recording.consent', { roomId, peerId, consent });
	}

	/**
	 * The recording node of a room hosted here died: its claim goes, and this
	 * node's participants are told the recording stopped (every surviving
	 * node tells its own). What it sealed before dying stays on its disk.
	 */
	async forgetDeadRecorders(liveNodes: ReadonlySet<string>): Promise<void> {
		for (const room of this.#options.rooms.rooms()) {
			const claim = await this.#read(room.id).catch(() => null);
			if (!claim || liveNodes.has(claim.nodeId)) continue;
			await this.#redis.eval(UPDATE_SCRIPT, 1, roomStateKeys(room.id).recording, claim.recordingId, '').catch(() => undefined);
			if (!claim.state?.active || room.closed) continue;
			this.#options.logger.warn({ roomId: room.id, recordingId: claim.recordingId, nodeId: claim.nodeId }, 'the node recording this room died: recording lost from here on');
			room.broadcast('recordingState', {
				...claim.state,
				active: false,
				recordedPeerIds: [],
				error: { code: 'recording_node_lost', message: 'the server recording this consult stopped; what was recorded until then is kept' },
			});
		}
	}

	close(): void {
		if (this.#closed) return;
		this.#closed = true;
		this.#redis.disconnect();
	}

	async #read(roomId: string): Promise<Claim | null> {
		const text = await this.#redis.get(roomStateKeys(roomId).recording);
		if (!text) return null;
		try {
			return JSON.parse(text) as Claim;
		} catch {
			return null;
		}
	}
}
