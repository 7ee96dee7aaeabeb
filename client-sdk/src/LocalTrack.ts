import type { types } from 'mediasoup-client';
import type { ProducerAppData } from './RtcEngine.js';
import type { Source } from './types.js';
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
	/** @internal Options it was published with, reused to republish. */
	readonly publishOptions: Readonly<TrackPublishOptions>;
	/** @internal Capture constraints when the SDK captured it (to capture again on a device switch). */
	readonly constraints: MediaTrackConstraints | undefined;

	readonly #owner: LocalTrackOwner;
	readonly #elements = new MediaElements();
	#track: MediaStreamTrack;
	#maxSpatialLayer: number | undefined;
	/** The lowest layer's settings while the uplink is too weak for it (undefined: as published). */
	#floor: { maxBitrate: number; maxFramerate: number } | undefined;
	#producer: types.Producer<ProducerAppData> | undefined;
	#muted: boolean;

	/** @internal Created by LocalParticipant. */
	constructor(track: MediaStreamTrack, options: TrackPublishOptions, owner: LocalTrackOwner, constraints?: MediaTrackConstraints) {
		this.source = options.source;
		this.kind = track.kind === 'audio' ? 'audio' : 'video';
		this.#track = track;
		this.constraints = constraints;
		this.publishOptions = { ...options };
		this.#owner = owner;
		this.#muted = options.muted ?? false;
	}

	/**
	 * The captured track. Its lifetime is the SDK's when it captured it. A
	 * device switch replaces it (same producer, no renegotiation).
	 */
	get mediaStreamTrack(): MediaStreamTrack {
		return this.#track;
	}

	/** The capture device in use (`MediaDeviceInfo.deviceId`), when the browser says. */
	get deviceId(): string | undefined {
		return this.#track.getSettings().deviceId;
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
		if (producer && this.#maxSpatialLayer !== undefined) this.setMaxSpatialLayer(this.#maxSpatialLayer);
	}

	/**
	 * @internal Swaps the captured track under the same producer
	 * (RTCRtpSender.replaceTrack: no renegotiation, peers notice nothing but
	 * the picture). Stops the old track when `stopOld`.
	 */
	async replaceTrack(track: MediaStreamTrack, stopOld: boolean): Promise<void> {
		const old = this.#track;
		if (this.#producer && !this.#producer.closed) await this.#producer.replaceTrack({ track });
		this.#track = track;
		track.enabled = !this.#muted;
		for (const el of this.#elements.elements) this.#elements.attach(track, el);
		if (stopOld && old !== track) old.stop();
	}

	/** @internal Uplink degradation: sends simulcast layers up to `layer` only. */
	setMaxSpatialLayer(layer: number): void {
		this.#maxSpatialLayer = layer;
		const producer = this.#producer;
		if (!producer || producer.closed || this.kind !== 'video' || !this.publishOptions.simulcast) return;
		if (producer.maxSpatialLayer === layer) return;
		producer.setMaxSpatialLayer(layer).catch(() => undefined);
	}

	/**
	 * @internal Weak uplink: sends the lowest layer with `floor`'s bitrate and
	 * frame rate (undefined: back to `normal`, the layer as published).
	 */
	setLowestLayerFloor(floor: { maxBitrate: number; maxFramerate: number } | undefined, normal: { maxBitrate: number }): void {
		this.#floor = floor;
		const sender = this.#producer?.rtpSender;
		if (!sender || this.#producer?.closed || this.kind !== 'video') return;
		const parameters = sender.getParameters();
		const lowest = parameters.encodings[0];
		if (!lowest) return;
		lowest.maxBitrate = floor?.maxBitrate ?? normal.maxBitrate;
		if (floor) lowest.maxFramerate = floor.maxFramerate;
		else delete lowest.maxFramerate;
		sender.setParameters(parameters).catch(() => undefined);
	}

	/** @internal The floor in force, if any. */
	get lowestLayerFloor(): { maxBitrate: number; maxFramerate: number } | undefined {
		return this.#floor;
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
		if (stopTrack) this.#track.stop();
	}
}
