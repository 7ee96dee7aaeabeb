import { canModerate } from '../auth/index.js';
import { SfuError } from '../errors.js';
import type { Source } from '../signaling/protocol.js';
import type { Peer } from './Peer.js';
import type { Room } from './Room.js';

/** Host actions. Each checks the actor's role first. */

function requireModerator(actor: Peer): void {
	if (!canModerate(actor.role)) throw new SfuError('forbidden', 'only the host may do that');
}

export function admitPeer(room: Room, actor: Peer, peerId: string): void {
	requireModerator(actor);
	room.admit(peerId);
}

export function denyPeer(room: Room, actor: Peer, peerId: string): void {
	requireModerator(actor);
	room.deny(peerId);
}

/**
 * Pauses the target's producers of `source` (default: microphone) and tells
 * the target, so its client shows it was muted by the host. The target may
 * unmute itself: clinical etiquette, not enforcement.
 */
export async function mutePeer(room: Room, actor: Peer, peerId: string, source: Source = 'microphone'): Promise<string[]> {
	requireModerator(actor);
	const target = room.peer(peerId);
	if (!target.hasMedia) throw new SfuError('invalid_state', 'that peer has not joined');
	const muted: string[] = [];
	for (const producer of [...target.media.producers.values()]) {
		if (producer.appData.source !== source || producer.paused) continue;
		await target.pauseProducer(producer.id);
		target.notify('mutedByHost', { producerId: producer.id, source });
		muted.push(producer.id);
	}
	return muted;
}

export function removePeer(room: Room, actor: Peer, peerId: string): void {
	requireModerator(actor);
	const target = room.peer(peerId);
	if (target === actor) throw new SfuError('invalid_state', 'use leave to leave the room');
	target.notify('kicked', { reason: 'removed' });
	room.remove(target, 'removed');
}

export function endRoom(room: Room, actor: Peer): void {
	requireModerator(actor);
	room.close('ended_by_host');
}
