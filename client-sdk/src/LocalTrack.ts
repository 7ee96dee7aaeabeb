import type { types } from 'mediasoup-client';
import type { ProducerAppData } from './RtcEngine.js';
import type { Source } from './protocol.js';
import { MediaElements } from './MediaElements.js';

/** How a local track is published. */
export interface TrackPublishOptions {
	/** What the track carries; drives the server's permissions and layout. */
	source: Source;
	/** Video only: send 3 simulcast layers (VP8; ¼, ½ and full resolution). Default false. */
	simulcast?: boolean;
	/** Publish muted (paused). Default false. */
	muted?: boolean;
	/**
	 * Stop the MediaStreamTrack when it is unpublished. Default true for
	 * tracks the SDK captured (enableCamera …), false for `publishTrack`.
	 */
	stopOnUnpublish?: boolean;
}

/** @internal What a LocalTrack asks of its participant. */
export interface LocalTrackOwner {
	setTrackMuted(track: LocalTrack, muted: boolean): Promise<void>;
}

/**
 * A track this participant publishes: one MediaStreamTrack, one server
 * producer at a time (a rebuilt session republishes the same track under a
 * new producer id).
 */
export class LocalTrack {
	/** What the track carries. */
	readonly source: Source;
	/** 'audio' or 'video'. */
	readonly kind: 'audio' | 'video';
	/** The captured track. Its lifetime is the SDK's when it captured it. */
	readonly mediaStreamTrack: MediaStreamTrack;
	/** @internal Options it was published with, reused to republish. */
	readonly publishOptions: Readonly<TrackPublishOptions>;

	readonly #owner: LocalTrackOwner;
	readonly #elements = new MediaElements();
	#producer: types.Producer<ProducerAppData> | undefined;
	#muted: boolean;

	/** @internal Created by LocalParticipant. */
	constructor(track: MediaStreamTrack, options: TrackPublishOptions, owner: LocalTrackOwner) {
		this.source = options.source;
		this.kind = track.kind === 'audio' ? 'audio' : 'video';
		this.mediaStreamTrack = track;
		this.publishOptions = { ...options };
		this.#owner = owner;
		this.#muted = options.muted ?? false;
	}

	/** The server's producer id while published. */
	get producerId(): string | undefined {
		return this.#producer?.id;
	}

	/** True while paused (by this participant or by a host). */
	get muted(): boolean {
		return this.#muted;
	}

	/** @internal The mediasoup-client producer, for stats and republishing. */
	get producer(): types.Producer<ProducerAppData> | undefined {
		return this.#producer;
	}

	/** Pauses sending (the track is disabled; peers see TrackMuted). */
	mute(): Promise<void> {
		return this.#owner.setTrackMuted(this, true);
	}

	/** Resumes sending. */
	unmute(): Promise<void> {
		return this.#owner.setTrackMuted(this, false);
	}

	/**
	 * Shows the track in a media element (a muted `<video>`/`<audio>` is
	 * created when none is given: a local preview must not echo).
	 */
	attach(element?: HTMLMediaElement): HTMLMediaElement {
		const el = element ?? document.createElement(this.kind);
		el.muted = true;
		return this.#elements.attach(this.mediaStreamTrack, el);
	}

	/** Removes the track from `element`, or from every element it was attached to. */
	detach(element?: HTMLMediaElement): HTMLMediaElement[] {
		return this.#elements.detach(element);
	}

	/** @internal */
	setProducer(producer: types.Producer<ProducerAppData> | undefined): void {
		this.#producer = producer;
	}

	/** @internal Applies a mute locally; returns whether it changed. */
	applyMuted(muted: boolean): boolean {
		if (muted) this.#producer?.pause();
		else this.#producer?.resume();
		if (this.#muted === muted) return false;
		this.#muted = muted;
		return true;
	}

	/** @internal Closes the producer and, when owned, stops the capture. */
	close(stopTrack: boolean): void {
		this.#producer?.close();
		this.#producer = undefined;
		this.#elements.detach();
		if (stopTrack) this.mediaStreamTrack.stop();
	}
}
