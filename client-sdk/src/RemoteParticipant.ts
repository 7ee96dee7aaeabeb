import type { PeerInfo, ProducerInfo, Role, Source } from './protocol.js';
import type { RemoteTrack } from './RemoteTrack.js';

/** Another participant in the room. */
export class RemoteParticipant {
	/** Peer id (stable across this participant's reconnects). */
	readonly id: string;
	/** Role from the participant's join token. */
	readonly role: Role;
	/** Display name from the participant's join token. */
	readonly displayName: string;
	/** What the participant publishes, by producer id (subscribed or not). */
	readonly producers = new Map<string, ProducerInfo>();
	/** Tracks received from this participant, by producer id. */
	readonly tracks = new Map<string, RemoteTrack>();

	/** @internal Created by the room from the server's peer info. */
	constructor(info: PeerInfo) {
		this.id = info.id;
		this.role = info.role;
		this.displayName = info.displayName;
		for (const producer of info.producers) this.producers.set(producer.id, { ...producer });
	}

	/** The received track of `source` (e.g. 'camera'), if any. */
	getTrack(source: Source): RemoteTrack | undefined {
		for (const track of this.tracks.values()) if (track.source === source) return track;
		return undefined;
	}

	/** The received tracks of `kind`. */
	getTracks(kind?: 'audio' | 'video'): RemoteTrack[] {
		return [...this.tracks.values()].filter((t) => !kind || t.kind === kind);
	}
}
