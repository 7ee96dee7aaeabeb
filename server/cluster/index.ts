export { leastLoaded } from './NodeRegistry.js';
export type { NodeInfo, NodeLoad, NodeRegistry, NodeRegistryEvents } from './NodeRegistry.js';
export { LocalNodeRegistry } from './LocalNodeRegistry.js';
export { RedisNodeRegistry } from './RedisNodeRegistry.js';
export type { RedisNodeRegistryOptions } from './RedisNodeRegistry.js';
export { clusterPlacement, createNodeRegistry } from './clusterNode.js';
export type { ClusterNodeOptions } from './clusterNode.js';
export { ClusterMedia } from './ClusterMedia.js';
export type { ClusterMediaOptions } from './ClusterMedia.js';
