import type { types } from 'mediasoup-client';
import { MediaElements } from './MediaElements.js';
import type { ConsumeResponse } from './protocol.js';
import { TrackStreamState, VideoQuality } from './RoomEvent.js';
import type { SignalClient } from './SignalClient.js';
import type { ConsumerType, Source } from './types.js';

/** @internal What a RemoteTrack needs from its room. */
export interface RemoteTrackContext {
	readonly signal: SignalClient;
	/** Pick layers from the size of the elements showing the track. */
	readonly adaptiveStream: boolean;
	/** Speaker chosen with `room.switchActiveDevice('audiooutput', …)`, if any. */
	readonly audioOutput: string | undefined;
	onPlaybackBlocked(element: HTMLMediaElement): void;
	onStreamStateChanged(track: RemoteTrack, state: TrackStreamState): void;
}

/** Element size (device pixels, longer side at 16:9) up to which each layer suffices. */
const LAYER_MAX_PIXELS = [360, 720] as const;

/**
 * A track received from a remote participant: one server consumer of one
 * remote producer.
 *
 * Video quality: with `adaptiveStream` (the default) the SDK asks for the
 * simulcast layer that fits the largest visible element the track is
 * attached to, and pauses the track while no attached element is visible.
 * {@link setVideoQuality} overrides the size rule; a weak downlink caps the
 * layer below either (audio keeps its bandwidth first).
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
	/** 'simulcast' when layers can be chosen ({@link setVideoQuality}). */
	readonly type: ConsumerType;

	readonly #consumer: types.Consumer;
	readonly #context: RemoteTrackContext;
	readonly #elements: MediaElements;
	#muted: boolean;
	#layers: { spatial: number | null; temporal: number | null } = { spatial: null, temporal: null };
	/** Quality asked by the application (undefined: automatic). */
	#requested: { spatial: number; temporal?: number } | undefined;
	/** Quality that fits the attached elements (undefined: no element measured). */
	#fit: VideoQuality | undefined;
	/** Highest quality the downlink allows now. */
	#cap: VideoQuality = VideoQuality.High;
	#hiddenTicks = 0;
	#hidden = false;
	#bandwidthPaused = false;
	#audioOnly = false;
	#jitterBufferTarget: number | null = null;
	/** What the server was last asked for. */
	#sent: { spatial: number | undefined; temporal: number | undefined; paused: boolean } = { spatial: undefined, temporal: undefined, paused: false };
	#applying: Promise<void> = Promise.resolve();
	#score: { score: number; producerScore: number } | undefined;
	#closed = false;

	/** @internal Created by the room when a consumer is ready. */
	constructor(answer: ConsumeResponse, consumer: types.Consumer, context: RemoteTrackContext) {
		this.producerId = answer.producerId;
		this.consumerId = answer.id;
		this.participantId = answer.peerId;
		this.kind = answer.kind;
		this.source = answer.source;
		this.type = answer.type;
		this.#consumer = consumer;
		this.#context = context;
		this.#muted = answer.producerPaused;
		this.#elements = new MediaElements((el) => context.onPlaybackBlocked(el));
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

	/** Quality asked with {@link setVideoQuality}, or 'auto'. */
	get requestedQuality(): VideoQuality | 'auto' {
		return this.#requested ? (Math.min(this.#requested.spatial, VideoQuality.High)) : 'auto';
	}

	/**
	 * The server's view of this track (0..10, 10 best), when it reported one:
	 * `producerScore` is how well the publisher's uplink reaches the server,
	 * `score` how well the server's stream reaches this browser.
	 */
	get score(): { score: number; producerScore: number } | undefined {
		return this.#score ? { ...this.#score } : undefined;
	}

	/** Whether media flows, or the SDK paused it (not visible, or the link is too weak for video). */
	get streamState(): TrackStreamState {
		return this.#sent.paused ? TrackStreamState.Paused : TrackStreamState.Active;
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
		const el = this.#elements.attach(this.mediaStreamTrack, element ?? document.createElement(this.kind));
		const sink = this.#context.audioOutput;
		if (this.kind === 'audio' && sink !== undefined) void setSink(el, sink);
		return el;
	}

	/** Removes the track from `element`, or from every element it is attached to. */
	detach(element?: HTMLMediaElement): HTMLMediaElement[] {
		return this.#elements.detach(element);
	}

	/**
	 * Simulcast: receive `quality` (low / medium / high) whatever the size of
	 * the elements, or `'auto'` to follow them again. A weak downlink may still
	 * lower it for a while. The server switches at the next key frame
	 * (≈ 0.3 s); {@link RoomEvent.TrackLayersChanged} reports it.
	 */
	async setVideoQuality(quality: VideoQuality | 'auto'): Promise<void> {
		this.#requested = quality === 'auto' ? undefined : { spatial: quality };
		await this.#apply();
	}

	/**
	 * Simulcast, low level: asks for a spatial layer (0 = lowest) and
	 * optionally a temporal layer (default: the highest). Same as
	 * {@link setVideoQuality} with a temporal layer.
	 */
	async setPreferredLayers(spatialLayer: number, temporalLayer?: number): Promise<void> {
		this.#requested = temporalLayer === undefined ? { spatial: spatialLayer } : { spatial: spatialLayer, temporal: temporalLayer };
		await this.#apply();
	}

	/** Share of bandwidth under congestion, 1 (lowest) to 255. */
	async setPriority(priority: number): Promise<void> {
		await this.#context.signal.request('setConsumerPriority', { consumerId: this.consumerId, priority });
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

	/** @internal From the server's `consumerScore` notification. */
	setScore(score: number, producerScore: number): void {
		this.#score = { score, producerScore };
	}

	/** @internal */
	setLayers(spatial: number | null, temporal: number | null): void {
		this.#layers = { spatial, temporal };
	}

	/**
	 * @internal Adaptive stream: measures the attached video elements and
	 * asks for what fits (called about once a second).
	 */
	measure(): void {
		if (this.kind !== 'video' || !this.#context.adaptiveStream || this.#closed) return;
		const elements = this.#elements.elements;
		if (elements.length === 0) {
			// Not shown by the SDK's attach(): the application manages it; leave it alone.
			this.#fit = undefined;
			this.#hiddenTicks = 0;
			this.#hidden = false;
		} else {
			let pixels = 0;
			for (const el of elements) pixels = Math.max(pixels, visiblePixels(el));
			if (pixels === 0) {
				// Two ticks in a row, so a re-layout does not flap the stream.
				this.#hiddenTicks++;
				if (this.#hiddenTicks >= 2) this.#hidden = true;
			} else {
				this.#hiddenTicks = 0;
				this.#hidden = false;
				this.#fit = pixels <= LAYER_MAX_PIXELS[0] ? VideoQuality.Low : pixels <= LAYER_MAX_PIXELS[1] ? VideoQuality.Medium : VideoQuality.High;
			}
		}
		void this.#apply();
	}

	/** @internal Downlink degradation: the highest quality allowed now, and whether video must pause (audio first). */
	setDownlinkLimit(cap: VideoQuality, pauseVideo: boolean): void {
		if (this.kind !== 'video') return;
		const pause = pauseVideo && this.source === 'camera';
		if (cap === this.#cap && pause === this.#bandwidthPaused) return;
		this.#cap = cap;
		this.#bandwidthPaused = pause;
		void this.#apply();
	}

	/**
	 * @internal Received audio on a lossy, slow downlink: the jitter buffer holds at least
	 * `ms` so a lost voice packet's retransmission (one round trip away) still arrives before
	 * its playout time. `null`: the browser's own adaptive target.
	 */
	setJitterBufferTarget(ms: number | null): void {
		if (this.kind !== 'audio' || ms === this.#jitterBufferTarget) return;
		// jitterBufferTarget: Chromium 114+; older browsers keep their own target.
		const receiver = this.#consumer.rtpReceiver;
		if (!receiver || !('jitterBufferTarget' in receiver)) return;
		this.#jitterBufferTarget = ms;
		try {
			receiver.jitterBufferTarget = ms;
		} catch {
			// Out of the browser's range: it keeps its own target.
		}
	}

	/** @internal Audio-only mode ({@link Room.setAudioOnly}): camera videos pause, other videos continue. */
	setAudioOnly(on: boolean): void {
		const pause = on && this.kind === 'video' && this.source === 'camera';
		if (pause === this.#audioOnly) return;
		this.#audioOnly = pause;
		void this.#apply().catch(() => undefined);
	}

	/** @internal True once the consumer is closed locally. */
	get closed(): boolean {
		return this.#consumer.closed;
	}

	/** @internal Closes the local consumer (its track ends) and detaches elements. */
	close(): void {
		this.#closed = true;
		this.#elements.detach();
		this.#consumer.close();
	}

	/** Sends what changed to the server, one request at a time and in order. */
	#apply(): Promise<void> {
		const run = this.#applying.then(() => this.#send());
		this.#applying = run.catch(() => undefined);
		return run;
	}

	async #send(): Promise<void> {
		if (this.#closed || this.kind !== 'video') return;
		const { signal } = this.#context;
		const paused = this.#hidden || this.#bandwidthPaused || this.#audioOnly;
		if (this.type === 'simulcast' || this.type === 'svc') {
			const wanted = this.#requested?.spatial ?? this.#fit ?? VideoQuality.High;
			const spatial = Math.min(wanted, this.#cap);
			const temporal = spatial === this.#requested?.spatial ? this.#requested.temporal : undefined;
			const unchanged = spatial === this.#sent.spatial && temporal === this.#sent.temporal;
			// Untouched so far and still the highest: the server's default already is.
			const isDefault = this.#sent.spatial === undefined && spatial === (VideoQuality.High as number) && temporal === undefined;
			if (!unchanged && !isDefault && signal.connected) {
				await signal.request('setConsumerPreferredLayers', {
					consumerId: this.consumerId,
					spatialLayer: spatial,
					...(temporal === undefined ? {} : { temporalLayer: temporal }),
				});
				this.#sent.spatial = spatial;
				this.#sent.temporal = temporal;
			}
		}
		if (paused !== this.#sent.paused && signal.connected && !this.#closed) {
			await signal.request(paused ? 'pauseConsumer' : 'resumeConsumer', { consumerId: this.consumerId });
			this.#sent.paused = paused;
			this.#context.onStreamStateChanged(this, paused ? TrackStreamState.Paused : TrackStreamState.Active);
		}
	}
}

/** Size in device pixels (longer side, at 16:9) of `el` if it is visible in the viewport, else 0. */
function visiblePixels(el: HTMLMediaElement): number {
	if (!el.isConnected) return 0;
	const rect = el.getBoundingClientRect();
	if (rect.width < 1 || rect.height < 1) return 0;
	if (rect.bottom <= 0 || rect.right <= 0 || rect.top >= window.innerHeight || rect.left >= window.innerWidth) return 0;
	if (typeof el.checkVisibility === 'function' && !el.checkVisibility({ visibilityProperty: true })) return 0;
	return Math.max(rect.width, (rect.height * 16) / 9) * (window.devicePixelRatio || 1);
}

/** @internal Plays `el` on the speaker `deviceId` (where the browser can choose). */
export function setSink(el: HTMLMediaElement, deviceId: string): Promise<void> {
	const withSink = el as HTMLMediaElement & { setSinkId?: (id: string) => Promise<void> };
	if (typeof withSink.setSinkId !== 'function') return Promise.resolve();
	return withSink.setSinkId(deviceId).catch(() => undefined);
}
