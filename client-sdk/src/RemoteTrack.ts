import type { types } from 'mediasoup-client';
import { MediaElements } from './MediaElements.js';
import type { ConsumeResponse, Source } from './protocol.js';
import type { SignalClient } from './SignalClient.js';

/**
 * A track received from a remote participant: one server consumer of one
 * remote producer.
 */
export class RemoteTrack {
	/** The remote producer this track receives. */
	readonly producerId: string;
	/** The server-side consumer id. */
	readonly consumerId: string;
	/** Peer id of the publisher. */
	readonly participantId: string;
	/** 'audio' or 'video'. */
	readonly kind: 'audio' | 'video';
	/** What the publisher says the track carries. */
	readonly source: Source;
	/** 'simulcast' when layers can be chosen with {@link setPreferredLayers}. */
	readonly type: ConsumeResponse['type'];

	readonly #consumer: types.Consumer;
	readonly #signal: SignalClient;
	readonly #elements: MediaElements;
	#muted: boolean;
	#layers: { spatial: number | null; temporal: number | null } = { spatial: null, temporal: null };

	/** @internal Created by the room when a consumer is ready. */
	constructor(answer: ConsumeResponse, consumer: types.Consumer, signal: SignalClient, onPlaybackBlocked: (el: HTMLMediaElement) => void) {
		this.producerId = answer.producerId;
		this.consumerId = answer.id;
		this.participantId = answer.peerId;
		this.kind = answer.kind;
		this.source = answer.source;
		this.type = answer.type;
		this.#consumer = consumer;
		this.#signal = signal;
		this.#muted = answer.producerPaused;
		this.#elements = new MediaElements(onPlaybackBlocked);
	}

	/** The received media. Ends when the track is unsubscribed. */
	get mediaStreamTrack(): MediaStreamTrack {
		return this.#consumer.track;
	}

	/** True while the publisher has paused it (muted, or muted by a host). */
	get muted(): boolean {
		return this.#muted;
	}

	/** Simulcast layers currently received (null: unknown or none). */
	get currentLayers(): { spatial: number | null; temporal: number | null } {
		return { ...this.#layers };
	}

	/** The elements this track is attached to. */
	get attachedElements(): HTMLMediaElement[] {
		return this.#elements.elements;
	}

	/**
	 * Plays the track in `element`, or in a new `<video>`/`<audio>` element
	 * (autoplay, inline) that the caller inserts in the page.
	 */
	attach(element?: HTMLMediaElement): HTMLMediaElement {
		return this.#elements.attach(this.mediaStreamTrack, element ?? document.createElement(this.kind));
	}

	/** Removes the track from `element`, or from every element it is attached to. */
	detach(element?: HTMLMediaElement): HTMLMediaElement[] {
		return this.#elements.detach(element);
	}

	/**
	 * Simulcast: asks for a spatial layer (0 = lowest) and optionally a
	 * temporal layer (default: the highest). The server switches at the next
	 * key frame; {@link RoomEvent.TrackLayersChanged} reports it.
	 */
	async setPreferredLayers(spatialLayer: number, temporalLayer?: number): Promise<void> {
		await this.#signal.request('setConsumerPreferredLayers', {
			consumerId: this.consumerId,
			spatialLayer,
			...(temporalLayer === undefined ? {} : { temporalLayer }),
		});
	}

	/** Share of bandwidth under congestion, 1 (lowest) to 255. */
	async setPriority(priority: number): Promise<void> {
		await this.#signal.request('setConsumerPriority', { consumerId: this.consumerId, priority });
	}

	/** The receiver's raw WebRTC statistics. */
	getRtcStats(): Promise<RTCStatsReport> {
		return this.#consumer.getStats();
	}

	/** @internal Retries playback on attached elements (after a user gesture). */
	async replay(): Promise<boolean> {
		const results = await Promise.all(this.#elements.elements.map((el) => (el.paused ? this.#elements.play(el) : Promise.resolve(true))));
		return results.every(Boolean);
	}

	/** @internal Returns whether the state changed. */
	setMuted(muted: boolean): boolean {
		if (this.#muted === muted) return false;
		this.#muted = muted;
		return true;
	}

	/** @internal */
	setLayers(spatial: number | null, temporal: number | null): void {
		this.#layers = { spatial, temporal };
	}

	/** @internal True once the consumer is closed locally. */
	get closed(): boolean {
		return this.#consumer.closed;
	}

	/** @internal Closes the local consumer (its track ends) and detaches elements. */
	close(): void {
		this.#elements.detach();
		this.#consumer.close();
	}
}
