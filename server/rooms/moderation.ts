import { canModerate } from '../auth/index.js';
import { SfuError, type Source } from '../protocol/index.js';
import type { Peer } from './Peer.js';
import type { Room } from './Room.js';
import type { RoomControl } from './RoomControl.js';

/** Host actions: each checks the actor's role, then goes through the room control port. */

function requireModerator(actor: Peer): void {
	if (!canModerate(actor.role)) throw new SfuError('forbidden', 'only the host may do that');
}

export async function admitPeer(control: RoomControl, room: Room, actor: Peer, peerId: string): Promise<void> {
	requireModerator(actor);
	await control.admit(room, peerId);
}

export async function denyPeer(control: RoomControl, room: Room, actor: Peer, peerId: string): Promise<void> {
	requireModerator(actor);
	await control.deny(room, peerId);
}

/** Pauses the target's producers of `source` (default: microphone). */
export async function mutePeer(control: RoomControl, room: Room, actor: Peer, peerId: string, source: Source = 'microphone'): Promise<string[]> {
	requireModerator(actor);
	return control.mute(room, peerId, source);
}

export async function removePeer(control: RoomControl, room: Room, actor: Peer, peerId: string): Promise<void> {
	requireModerator(actor);
	if (peerId === actor.id) throw new SfuError('invalid_state', 'use leave to leave the room');
	await control.remove(room, peerId);
}

export async function endRoom(control: RoomControl, room: Room, actor: Peer): Promise<void> {
	requireModerator(actor);
	await control.end(room);
}
