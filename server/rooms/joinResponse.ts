import type { types } from 'mediasoup';
import type { JoinResponse, RoomInfo } from '../protocol/index.js';
import { producerInfo, type Peer } from './Peer.js';

/** The `join` answer of a peer parked in the waiting room. */
export function waitingResponse(room: RoomInfo, peer: Peer): JoinResponse {
	return { waiting: true, peerId: peer.id, role: peer.role, displayName: peer.identity.displayName, room };
}

/**
 * The `join` answer of a peer that entered (or resumed): what its client needs
 * to load its device and show the room, and on resume what the server kept.
 */
export function joinedResponse(input: {
	room: RoomInfo;
	peer: Peer;
	/** Everyone the peer sees in the room (waiting peers and silent viewers excluded). */
	others: readonly Peer[];
	routerRtpCapabilities: types.RtpCapabilities;
	resumed: boolean;
}): JoinResponse {
	const { peer, resumed } = input;
	return {
		waiting: false,
		peerId: peer.id,
		role: peer.role,
		room: input.room,
		routerRtpCapabilities: input.routerRtpCapabilities,
		peers: input.others.map((p) => p.info()),
		displayName: peer.identity.displayName,
		resumed,
		producers: resumed ? [...peer.media.producers.values()].map(producerInfo) : [],
		kept: resumed ? { transportIds: peer.media.transportIds, consumerIds: [...peer.media.consumers.keys()] } : { transportIds: [], consumerIds: [] },
	};
}
