import { SfuError } from '../protocol/index.js';
import type { Logger } from '../logger/index.js';
import type { RoomPlacement } from '../rooms/index.js';
import { LocalNodeRegistry } from './LocalNodeRegistry.js';
import type { NodeInfo, NodeRegistry } from './NodeRegistry.js';
import { RedisNodeRegistry } from './RedisNodeRegistry.js';

export interface ClusterNodeOptions {
	/** Unset: a single node with in-memory state. */
	redisUrl?: string;
	heartbeatMs: number;
	self: () => NodeInfo;
	localRooms: () => string[];
	logger: Logger;
}

/** The registry behind this node: Redis when configured, memory otherwise. */
export function createNodeRegistry(options: ClusterNodeOptions): NodeRegistry {
	if (!options.redisUrl) return new LocalNodeRegistry(options.self);
	return new RedisNodeRegistry({ redisUrl: options.redisUrl, heartbeatMs: options.heartbeatMs, self: options.self, localRooms: options.localRooms, logger: options.logger });
}

/**
 * Every room has an origin node, claimed in Redis on first join (cluster state
 * unreachable: `unavailable`). With `span`, any node hosts its own
 * participants of the room (ClusterMedia pipes media between nodes);
 * otherwise a join that reaches another node is answered `room_elsewhere`
 * with the origin's URL.
 */
export function clusterPlacement(registry: NodeRegistry, logger: Logger, options: { span: boolean }): RoomPlacement {
	return {
		async claim(roomId, proposed) {
			const { originNodeId } = await registry.claimRoom(roomId);
			if (originNodeId === registry.nodeId || options.span) return registry.agreeRoomPolicy(roomId, proposed);
			const origin = (await registry.nodes()).find((node) => node.id === originNodeId);
			throw new SfuError('room_elsewhere', `this room is hosted by node ${originNodeId}; reconnect there`, origin ? { redirectUrl: origin.publicUrl } : {});
		},
		release(roomId) {
			registry.releaseRoom(roomId).catch((error: Error) => logger.warn({ err: error, roomId }, 'could not release a room claim'));
		},
	};
}
