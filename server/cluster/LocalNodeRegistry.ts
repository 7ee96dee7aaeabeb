import { EventEmitter } from 'node:events';
import type { NodeInfo, NodeRegistry, NodeRegistryEvents } from './NodeRegistry.js';

/** A single node: every room is ours, state lives in this process. */
export class LocalNodeRegistry extends EventEmitter<NodeRegistryEvents> implements NodeRegistry {
	readonly mode = 'local' as const;
	readonly nodeId: string;
	readonly roundTripMs = 0;
	readonly #self: () => NodeInfo;

	constructor(self: () => NodeInfo) {
		super();
		this.#self = self;
		this.nodeId = self().id;
	}

	async start(): Promise<void> {}

	async announce(): Promise<void> {}

	async nodes(): Promise<NodeInfo[]> {
		return [this.#self()];
	}

	async claimRoom(): Promise<{ originNodeId: string; claimedNow: boolean }> {
		return { originNodeId: this.nodeId, claimedNow: false };
	}

	async agreeRoomPolicy<T extends object>(_roomId: string, proposed: T): Promise<T> {
		return proposed;
	}

	async releaseRoom(): Promise<void> {}

	async close(): Promise<void> {}
}
