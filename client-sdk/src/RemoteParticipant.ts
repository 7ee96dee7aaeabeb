import { ConnectionQuality, type VideoQuality } from './RoomEvent.js';
import type { PeerInfo } from './protocol.js';
import type { RemoteTrack } from './RemoteTrack.js';
import type { ProducerInfo, Role, Source } from './types.js';

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

	#quality = ConnectionQuality.Unknown;
	#videoQuality: VideoQuality | 'auto' = 'auto';

	/** @internal Created by the room from the server's peer info. */
	constructor(info: PeerInfo) {
		this.id = info.id;
		this.role = info.role;
		this.displayName = info.displayName;
		for (const producer of info.producers) this.producers.set(producer.id, { ...producer });
	}

	/** How well this participant's media reaches this browser ({@link RoomEvent.ConnectionQualityChanged}). */
	get connectionQuality(): ConnectionQuality {
		return this.#quality;
	}

	/** The video quality asked with {@link setVideoQuality} ('auto': sized to the elements). */
	get videoQuality(): VideoQuality | 'auto' {
		return this.#videoQuality;
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

	/**
	 * Receives this participant's videos (now and later ones) in `quality`
	 * — low, medium or high simulcast layer — or `'auto'` to size them to the
	 * elements showing them.
	 *
	 * ```ts
	 * participant.setVideoQuality(VideoQuality.Low); // a thumbnail on a weak link
	 * ```
	 */
	async setVideoQuality(quality: VideoQuality | 'auto'): Promise<void> {
		this.#videoQuality = quality;
		await Promise.all(this.getTracks('video').map((t) => t.setVideoQuality(quality)));
	}

	/** @internal Returns whether it changed. */
	setConnectionQuality(quality: ConnectionQuality): boolean {
		if (quality === this.#quality) return false;
		this.#quality = quality;
		return true;
	}
}
