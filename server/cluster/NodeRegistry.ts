import type { EventEmitter } from 'node:events';

/** What a node tells the cluster about itself. */
export interface NodeInfo {
	id: string;
	version: string;
	/** How clients reach this node. */
	publicUrl: string;
	/** How other nodes reach this one (pipe set-up). */
	internalUrl: string;
	startedAt: string;
	/** When this record was last written. */
	updatedAt: string;
	/** False while over capacity or shutting down: new rooms go elsewhere. */
	ready: boolean;
	load: NodeLoad;
}

export interface NodeLoad {
	rooms: number;
	peers: number;
	consumers: number;
	workers: number;
	/** Consumers per live worker: the number placement compares. */
	consumersPerWorker: number;
	/** Producers piped in from other nodes / out to other nodes. */
	pipesIn: number;
	pipesOut: number;
}

export type NodeRegistryEvents = {
	/** The shared state became unreachable / reachable again. */
	unavailable: [error: Error];
	available: [];
};

/**
 * Which nodes exist and which node is each room's origin. One interface, two
 * implementations (LiveKit's routing pattern): in memory for a single node,
 * Redis for a cluster.
 */
export interface NodeRegistry extends EventEmitter<NodeRegistryEvents> {
	readonly mode: 'local' | 'redis';
	readonly nodeId: string;
	/** Starts heartbeating this node's record. */
	start(): Promise<void>;
	/** Writes this node's record now (its readiness changed: a drain began). */
	announce(): Promise<void>;
	/** Live nodes (heartbeat within the TTL), this one included. */
	nodes(): Promise<NodeInfo[]>;
	/**
	 * The room's origin node: an existing live claim, else a new claim for the
	 * least-loaded ready node (atomically; a dead owner's claim is taken over).
	 */
	claimRoom(roomId: string): Promise<{ originNodeId: string; claimedNow: boolean }>;
	/**
	 * The room's policy as the cluster knows it: the first node to open the room
	 * sets it (from its creator's token); every other node adopts it.
	 */
	agreeRoomPolicy<T extends object>(roomId: string, proposed: T): Promise<T>;
	/** Gives up this node's claim when its room closes. */
	releaseRoom(roomId: string): Promise<void>;
	/** Round-trip time of the shared state, ms (0 in memory), or null while unreachable. */
	readonly roundTripMs: number | null;
	close(): Promise<void>;
}

/** The least-loaded ready node, by consumers per worker then peers. */
export function leastLoaded(nodes: readonly NodeInfo[]): NodeInfo | undefined {
	return [...nodes]
		.filter((n) => n.ready)
		.sort((a, b) => a.load.consumersPerWorker - b.load.consumersPerWorker || a.load.peers - b.load.peers || a.id.localeCompare(b.id))[0];
}
