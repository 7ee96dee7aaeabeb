import { EventEmitter } from 'node:events';
import type { Source } from '../protocol/index.js';
import type { Room } from './Room.js';

/** A host action carried out on another node (what the acting node's audit trail records). */
export interface RemoteControlAction {
	action: 'admit' | 'deny' | 'remove';
	roomId: string;
	/** The participant acted on, by its opaque `sub` and role (never a name). */
	target: { peerId: string; sub: string; role: string };
	/** The node that carried it out. */
	executedOn: string;
}

export type RoomControlObserverEvents = {
	/** A host action this node asked another node to carry out, once carried out. */
	remoteaction: [action: RemoteControlAction];
};

/**
 * Host actions on participants, wherever they are connected: the port that
 * moderation goes through (as LiveKit routes participant RPCs). On a single
 * node LocalRoomControl acts on the room directly; in a cluster the
 * implementation in cluster/ carries each action to the node that holds the
 * participant and resolves once that node has acted (or fails with a stable
 * code: `unavailable` when that node is gone — never a silent success).
 * Permission checks happen before (moderation.ts).
 */
export interface RoomControl {
	/** For monitors (the audit trail). */
	readonly observer: EventEmitter<RoomControlObserverEvents>;
	/** Lets a waiting participant in. */
	admit(room: Room, peerId: string): Promise<void>;
	/** Turns a waiting participant away. */
	deny(room: Room, peerId: string): Promise<void>;
	/** Pauses the participant's producers of `source` and tells them; resolves with the producers paused. */
	mute(room: Room, peerId: string, source: Source): Promise<string[]>;
	/** Removes the participant (told `kicked`), banned from the room for its life. */
	remove(room: Room, peerId: string): Promise<void>;
	/** Ends the room for everyone in it, on every node. */
	end(room: Room): Promise<void>;
}

/** Room control on one node: every participant is local. */
export class LocalRoomControl implements RoomControl {
	readonly observer = new EventEmitter<RoomControlObserverEvents>();

	admit(room: Room, peerId: string): Promise<void> {
		return room.admit(peerId);
	}

	async deny(room: Room, peerId: string): Promise<void> {
		room.deny(peerId);
	}

	mute(room: Room, peerId: string, source: Source): Promise<string[]> {
		return room.mute(peerId, source);
	}

	remove(room: Room, peerId: string): Promise<void> {
		return room.expel(peerId);
	}

	async end(room: Room): Promise<void> {
		room.close('ended_by_host');
	}
}
