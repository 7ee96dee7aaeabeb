import { SfuError, type Source } from '../protocol/index.js';
import type { Room } from './Room.js';

/**
 * Host actions on participants, wherever they are connected: the port that
 * moderation goes through (as LiveKit routes participant RPCs). On a single
 * node LocalRoomControl acts on the room directly; in a cluster an
 * implementation in cluster/ routes each action to the node that holds the
 * participant and resolves once that node has acted (or fails with a code).
 * Permission checks happen before (moderation.ts).
 */
export interface RoomControl {
	/** Lets a waiting participant in. */
	admit(room: Room, peerId: string): Promise<void>;
	/** Turns a waiting participant away. */
	deny(room: Room, peerId: string): Promise<void>;
	/** Pauses the participant's producers of `source` and tells them; resolves with the producers paused. */
	mute(room: Room, peerId: string, source: Source): Promise<string[]>;
	/** Removes the participant (told `kicked`). */
	remove(room: Room, peerId: string): Promise<void>;
	/** Ends the room for everyone in it. */
	end(room: Room): Promise<void>;
}

/** Room control on one node: every participant is local. */
export class LocalRoomControl implements RoomControl {
	async admit(room: Room, peerId: string): Promise<void> {
		room.admit(peerId);
	}

	async deny(room: Room, peerId: string): Promise<void> {
		room.deny(peerId);
	}

	/**
	 * The target may unmute itself: clinical etiquette, not enforcement. Its
	 * client shows it was muted by the host.
	 */
	async mute(room: Room, peerId: string, source: Source): Promise<string[]> {
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

	async remove(room: Room, peerId: string): Promise<void> {
		const target = room.peer(peerId);
		target.notify('kicked', { reason: 'removed' });
		room.remove(target, 'removed');
	}

	async end(room: Room): Promise<void> {
		room.close('ended_by_host');
	}
}
