export { NO_CHANNEL, Room } from './Room.js';
export type { JoinRequest, RemoteMedia, RoomCloseReason, RoomEvents, RoomOptions, RoomPolicy } from './Room.js';
export { Peer, producerInfo } from './Peer.js';
export type { PeerChannel, PeerEvents, PeerIdentity, PeerState } from './Peer.js';
export { RoomRegistry } from './RoomRegistry.js';
export type { RoomCounts, RoomPlacement, RoomRegistryEvents } from './RoomRegistry.js';
export { admitPeer, denyPeer, endRoom, mutePeer, removePeer } from './moderation.js';
