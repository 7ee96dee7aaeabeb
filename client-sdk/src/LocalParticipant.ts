import type { types } from 'mediasoup-client';
import { MEDIA_PROFILES } from '../../worker-config/profiles.js';
import { LocalTrack, type TrackPublishOptions } from './LocalTrack.js';
import type { ProducerInfo, Role, Source } from './types.js';
import type { ProducerAppData, RtcEngine } from './RtcEngine.js';
import { ConnectionQuality, RoomEvent, type RoomEventMap } from './RoomEvent.js';
import type { MediaPath } from './stats.js';
import { SdkError } from './SdkError.js';
import type { SignalClient } from './SignalClient.js';
import type { TypedEmitter } from './TypedEmitter.js';

/** Options of {@link LocalParticipant.enableCamera}. */
export interface CameraOptions {
	/** Send 3 simulcast layers so each viewer gets what its link and layout need. Default true. */
	simulcast?: boolean;
	/** Camera to use (`MediaDeviceInfo.deviceId`). Default: the browser's choice. */
	deviceId?: string;
	/** Capture resolution. Default 1280x720. */
	resolution?: { width: number; height: number };
	/** Publish muted. Default false. */
	muted?: boolean;
}

/** Options of {@link LocalParticipant.enableMicrophone}. */
export interface MicrophoneOptions {
	/** Microphone to use. Default: the browser's choice. */
	deviceId?: string;
	/** Publish muted. Default false. */
	muted?: boolean;
}

/** Options of {@link LocalParticipant.enableScreenShare}. */
export interface ScreenShareOptions {
	/** Also share the tab's/system's audio when the browser offers it (source 'screen-audio'). Default false. */
	audio?: boolean;
}

/** @internal What the participant needs from its room. */
export interface LocalParticipantContext {
	readonly engine: RtcEngine;
	readonly signal: SignalClient;
	readonly events: TypedEmitter<RoomEventMap>;
	/** Throws unless the room is joined (or resuming a joined session). */
	assertJoined(): void;
}

/** Send settings come from the shared media profiles (worker-config/profiles.ts), as the server's priorities do. */
const CAMERA = MEDIA_PROFILES.consult.video;
const SCREEN = MEDIA_PROFILES.imaging.video;
const CAMERA_TOP_LAYER = CAMERA.encodings[CAMERA.encodings.length - 1]!;

/**
 * This participant: its identity and the tracks it publishes, one per
 * source.
 */
export class LocalParticipant {
	/** Published tracks by source. */
	readonly tracks = new Map<Source, LocalTrack>();

	readonly #context: LocalParticipantContext;
	readonly #enabling = new Map<Source, Promise<LocalTrack>>();
	#id = '';
	#role: Role | undefined;
	#displayName = '';
	#quality = ConnectionQuality.Unknown;
	#mediaPath: MediaPath | undefined;
	readonly #preferredDevice: { videoinput?: string; audioinput?: string } = {};

	/** @internal Created by Room. */
	constructor(context: LocalParticipantContext) {
		this.#context = context;
	}

	/** Peer id assigned by the server ('' before joining). */
	get id(): string {
		return this.#id;
	}

	/** Role from the join token (undefined before joining). */
	get role(): Role | undefined {
		return this.#role;
	}

	/** Display name from the join token. */
	get displayName(): string {
		return this.#displayName;
	}

	/** The published track of `source`, if any. */
	getTrack(source: Source): LocalTrack | undefined {
		return this.tracks.get(source);
	}

	/**
	 * Captures and publishes the camera. If it is already published, resolves
	 * with that track (switching device when `deviceId` differs).
	 */
	enableCamera(options: CameraOptions = {}): Promise<LocalTrack> {
		return this.#enable('camera', async () => {
			this.#context.assertJoined();
			const deviceId = options.deviceId ?? this.#preferredDevice.videoinput;
			const existing = this.tracks.get('camera');
			if (existing) {
				if (options.deviceId && existing.deviceId !== options.deviceId) await this.switchDevice('videoinput', options.deviceId);
				return existing;
			}
			const { width, height } = options.resolution ?? { width: 1280, height: 720 };
			const constraints: MediaTrackConstraints = { width: { ideal: width }, height: { ideal: height }, frameRate: { ideal: 30 } };
			const track = await capture('video', constraints, deviceId);
			return this.#publishCaptured(track, { source: 'camera', simulcast: options.simulcast ?? true, muted: options.muted ?? false }, constraints);
		});
	}

	/** Captures and publishes the microphone (echo cancellation and noise suppression on). */
	enableMicrophone(options: MicrophoneOptions = {}): Promise<LocalTrack> {
		return this.#enable('microphone', async () => {
			this.#context.assertJoined();
			const existing = this.tracks.get('microphone');
			if (existing) {
				if (options.deviceId && existing.deviceId !== options.deviceId) await this.switchDevice('audioinput', options.deviceId);
				return existing;
			}
			const constraints: MediaTrackConstraints = { echoCancellation: true, noiseSuppression: true, autoGainControl: true };
			const track = await capture('audio', constraints, options.deviceId ?? this.#preferredDevice.audioinput);
			return this.#publishCaptured(track, { source: 'microphone', muted: options.muted ?? false }, constraints);
		});
	}

	/** Publishes the camera when `enabled`, else unpublishes it (LiveKit's `setCameraEnabled`). */
	async setCameraEnabled(enabled: boolean, options?: CameraOptions): Promise<LocalTrack | undefined> {
		if (enabled) return this.enableCamera(options);
		await this.disableCamera();
		return undefined;
	}

	/** Publishes the microphone when `enabled`, else unpublishes it. */
	async setMicrophoneEnabled(enabled: boolean, options?: MicrophoneOptions): Promise<LocalTrack | undefined> {
		if (enabled) return this.enableMicrophone(options);
		await this.disableMicrophone();
		return undefined;
	}

	/** Shares the screen when `enabled`, else stops sharing. */
	async setScreenShareEnabled(enabled: boolean, options?: ScreenShareOptions): Promise<LocalTrack | undefined> {
		if (enabled) return this.enableScreenShare(options);
		await this.disableScreenShare();
		return undefined;
	}

	/** True while the screen is shared. */
	get isScreenShareEnabled(): boolean {
		return this.tracks.has('screen');
	}

	/** How well this participant's own media reaches the server ({@link RoomEvent.ConnectionQualityChanged}). */
	get connectionQuality(): ConnectionQuality {
		return this.#quality;
	}

	/**
	 * @internal Switches the camera or microphone to `deviceId` in the middle
	 * of the call: captures from the new device and swaps it under the same
	 * producer (no renegotiation; peers keep receiving). Without a published
	 * track, the device is remembered for the next enable.
	 */
	async switchDevice(kind: 'videoinput' | 'audioinput', deviceId: string): Promise<void> {
		this.#preferredDevice[kind] = deviceId;
		const source: Source = kind === 'videoinput' ? 'camera' : 'microphone';
		const track = this.tracks.get(source);
		if (!track || !track.constraints || track.deviceId === deviceId) return;
		// Some cameras cannot be opened twice: release the old one first when the new capture fails.
		let next: MediaStreamTrack;
		try {
			next = await capture(track.kind, track.constraints, deviceId);
		} catch (error) {
			if (track.kind !== 'video') throw error;
			track.mediaStreamTrack.stop();
			next = await capture(track.kind, track.constraints, deviceId);
		}
		if (this.tracks.get(source) !== track) {
			next.stop();
			return;
		}
		try {
			await track.replaceTrack(next, true);
		} catch (error) {
			next.stop();
			throw SdkError.from(error, 'media_error');
		}
	}

	/**
	 * Asks the user for a screen, window or tab and publishes it (and its
	 * audio with `audio: true`). Stopping the share from the browser's own UI
	 * unpublishes it. Resolves with the video track.
	 */
	enableScreenShare(options: ScreenShareOptions = {}): Promise<LocalTrack> {
		return this.#enable('screen', async () => {
			const existing = this.tracks.get('screen');
			if (existing) return existing;
			this.#context.assertJoined();
			let stream: MediaStream;
			try {
				stream = await navigator.mediaDevices.getDisplayMedia({ video: { frameRate: { ideal: 15 } }, audio: options.audio ?? false });
			} catch (error) {
				throw new SdkError('media_unavailable', `screen capture refused: ${(error as Error).message}`, { cause: error });
			}
			const [video] = stream.getVideoTracks();
			const [audio] = stream.getAudioTracks();
			if (!video) throw new SdkError('media_unavailable', 'screen capture returned no video');
			// Text and slides: keep resolution, drop frame rate under congestion.
			video.contentHint = SCREEN.contentHint;
			const track = await this.#publishCaptured(video, { source: 'screen' });
			if (audio) await this.#publishCaptured(audio, { source: 'screen-audio' });
			return track;
		});
	}

	/**
	 * Publishes a track the application captured itself (a medical device
	 * feed, a canvas). The SDK does not stop it on unpublish unless
	 * `stopOnUnpublish` is set.
	 */
	async publishTrack(track: MediaStreamTrack, options: TrackPublishOptions): Promise<LocalTrack> {
		return this.#publish(track, options, undefined);
	}

	async #publish(track: MediaStreamTrack, options: TrackPublishOptions, constraints: MediaTrackConstraints | undefined): Promise<LocalTrack> {
		this.#context.assertJoined();
		if (this.tracks.has(options.source)) {
			throw new SdkError('client_invalid_state', `a ${options.source} track is already published; unpublish it first`);
		}
		const localTrack = new LocalTrack(track, { stopOnUnpublish: false, ...options }, this, constraints);
		this.tracks.set(options.source, localTrack);
		try {
			await this.#produce(localTrack);
		} catch (error) {
			if (this.tracks.get(options.source) === localTrack) this.tracks.delete(options.source);
			localTrack.close(localTrack.publishOptions.stopOnUnpublish ?? false);
			throw SdkError.from(error, 'media_error');
		}
		this.#context.events.emit(RoomEvent.LocalTrackPublished, localTrack);
		return localTrack;
	}

	/**
	 * Stops publishing the track of `source`. `stop` overrides the track's
	 * `stopOnUnpublish`.
	 */
	async unpublishTrack(source: Source, options: { stop?: boolean } = {}): Promise<void> {
		const track = this.tracks.get(source);
		if (!track) return;
		this.tracks.delete(source);
		const producerId = track.producerId;
		track.close(options.stop ?? track.publishOptions.stopOnUnpublish ?? false);
		this.#context.events.emit(RoomEvent.LocalTrackUnpublished, track);
		if (producerId && this.#context.signal.connected) {
			// Not found: the server closed it already (e.g. its transport). Either way it is gone.
			await this.#context.signal.request('closeProducer', { producerId }).catch(() => undefined);
		}
	}

	/** Unpublishes and stops the camera. */
	disableCamera(): Promise<void> {
		return this.unpublishTrack('camera');
	}

	/** Unpublishes and stops the microphone. */
	disableMicrophone(): Promise<void> {
		return this.unpublishTrack('microphone');
	}

	/** Stops sharing the screen (and its audio). */
	async disableScreenShare(): Promise<void> {
		await this.unpublishTrack('screen-audio');
		await this.unpublishTrack('screen');
	}

	/** Mutes the track of `source` (no-op when not published). */
	async mute(source: Source): Promise<void> {
		await this.tracks.get(source)?.mute();
	}

	/** Unmutes the track of `source` (no-op when not published). */
	async unmute(source: Source): Promise<void> {
		await this.tracks.get(source)?.unmute();
	}

	/** @internal Pauses/resumes a track locally and on the server (what its mute() calls). */
	async setTrackMuted(track: LocalTrack, muted: boolean): Promise<void> {
		const wasMuted = track.muted;
		// Mute locally first: stopping to send must not wait for the network.
		const changed = track.applyMuted(muted);
		const producerId = track.producerId;
		if (producerId && this.#context.signal.connected) {
			try {
				await this.#context.signal.request(muted ? 'pauseProducer' : 'resumeProducer', { producerId });
			} catch (error) {
				// A failed unmute (e.g. refused) goes back to muted; a failed mute stays muted locally.
				if (!muted) {
					track.applyMuted(wasMuted);
					throw SdkError.from(error);
				}
			}
		}
		if (changed) this.#context.events.emit(muted ? RoomEvent.TrackMuted : RoomEvent.TrackUnmuted, track, this);
	}

	/**
	 * @internal Uplink degradation: the camera's lowest layer at the profile's
	 * weak-uplink floor (fewer frames and bits) or as published.
	 */
	setWeakUplink(weak: boolean): void {
		const camera = this.tracks.get('camera');
		const floor = CAMERA.weakUplinkFloor;
		if (!camera || !floor) return;
		if (weak === !!camera.lowestLayerFloor) return;
		camera.setLowestLayerFloor(weak ? floor : undefined, CAMERA.encodings[0]);
	}

	/** @internal Uplink degradation: the highest simulcast layer to send (0 = lowest). */
	setUplinkLimit(layer: number): void {
		for (const track of this.tracks.values()) track.setMaxSpatialLayer(layer);
	}

	/** @internal Returns whether it changed. */
	setConnectionQuality(quality: ConnectionQuality): boolean {
		if (quality === this.#quality) return false;
		this.#quality = quality;
		return true;
	}

	/**
	 * How this browser's media reaches the server: 'udp', 'tcp' (ICE-TCP,
	 * UDP blocked) or 'relay' (through TURN); the most roundabout of its
	 * transports. Undefined until a transport carries media
	 * ({@link RoomEvent.MediaPathChanged}).
	 */
	get mediaPath(): MediaPath | undefined {
		return this.#mediaPath;
	}

	/** @internal */
	setMediaPath(path: MediaPath | undefined): boolean {
		if (path === this.#mediaPath) return false;
		this.#mediaPath = path;
		return true;
	}

	/** @internal */
	setIdentity(id: string, role: Role | undefined, displayName: string): void {
		this.#id = id;
		if (role) this.#role = role;
		if (displayName) this.#displayName = displayName;
	}

	/** @internal A host paused one of this participant's producers. */
	onMutedByHost(producerId: string): void {
		const track = [...this.tracks.values()].find((t) => t.producerId === producerId);
		if (!track) return;
		if (track.applyMuted(true)) {
			this.#context.events.emit(RoomEvent.TrackMuted, track, this);
		}
		this.#context.events.emit(RoomEvent.MutedByHost, track);
	}

	/**
	 * @internal After a reconnect: keeps the producers the server kept
	 * (`kept`), republishes every other track, and closes kept producers no
	 * track owns any more. A rebuilt session passes `kept = []`.
	 */
	async republish(kept: ProducerInfo[]): Promise<void> {
		const keptById = new Map(kept.map((p) => [p.id, p]));
		const work: Promise<unknown>[] = [];
		for (const track of [...this.tracks.values()]) {
			const info = track.producerId ? keptById.get(track.producerId) : undefined;
			if (info && track.producer && !track.producer.closed) {
				keptById.delete(info.id);
				work.push(this.#resyncMuted(track, info));
				continue;
			}
			track.producer?.close();
			track.setProducer(undefined);
			work.push(
				this.#produce(track).catch(() => {
					// The track cannot come back (e.g. the role lost the permission): unpublish it.
					if (this.tracks.get(track.source) === track) this.tracks.delete(track.source);
					track.close(track.publishOptions.stopOnUnpublish ?? false);
					this.#context.events.emit(RoomEvent.LocalTrackUnpublished, track);
				}),
			);
		}
		for (const orphan of keptById.keys()) {
			work.push(this.#context.signal.request('closeProducer', { producerId: orphan }).catch(() => undefined));
		}
		await Promise.all(work);
	}

	/** @internal Stops everything (room closed). */
	close(): void {
		for (const track of this.tracks.values()) {
			track.close(track.publishOptions.stopOnUnpublish ?? false);
		}
		this.tracks.clear();
	}

	async #resyncMuted(track: LocalTrack, info: ProducerInfo): Promise<void> {
		if (info.paused && !track.muted) {
			// Muted by a host while the notification was lost in the drop.
			if (track.applyMuted(true)) this.#context.events.emit(RoomEvent.TrackMuted, track, this);
		} else if (!info.paused && track.muted && track.producerId) {
			await this.#context.signal.request('pauseProducer', { producerId: track.producerId }).catch(() => undefined);
		}
	}

	/**
	 * A captured camera or microphone ended (unplugged, taken by another
	 * application): fall back to the default device under the same producer;
	 * unpublish when there is none. Screen shares and application tracks are
	 * unpublished.
	 */
	async #onTrackEnded(track: LocalTrack): Promise<void> {
		const kind = track.source === 'camera' ? 'videoinput' : track.source === 'microphone' ? 'audioinput' : undefined;
		if (kind && track.constraints) {
			try {
				const next = await capture(track.kind, track.constraints, undefined);
				if (this.tracks.get(track.source) !== track) {
					next.stop();
					return;
				}
				await track.replaceTrack(next, true);
				delete this.#preferredDevice[kind];
				this.#context.events.emit(RoomEvent.ActiveDeviceChanged, kind, track.deviceId ?? 'default');
				return;
			} catch (error) {
				this.#context.events.emit(RoomEvent.MediaDevicesError, SdkError.from(error, 'media_unavailable'), kind);
			}
		}
		if (this.tracks.get(track.source) === track) await this.unpublishTrack(track.source, { stop: true });
	}

	#enable(source: Source, run: () => Promise<LocalTrack>): Promise<LocalTrack> {
		// Two quick clicks must not capture twice.
		const pending = this.#enabling.get(source);
		if (pending) return pending;
		const promise = run().finally(() => this.#enabling.delete(source));
		this.#enabling.set(source, promise);
		return promise;
	}

	async #publishCaptured(track: MediaStreamTrack, options: TrackPublishOptions, constraints?: MediaTrackConstraints): Promise<LocalTrack> {
		try {
			return await this.#publish(track, { ...options, stopOnUnpublish: true }, constraints);
		} catch (error) {
			track.stop();
			throw error;
		}
	}

	async #produce(track: LocalTrack): Promise<void> {
		const { engine } = this.#context;
		const producer = await engine.produce(track.mediaStreamTrack, {
			...produceOptions(track, engine),
			appData: { source: track.source, paused: track.muted } satisfies ProducerAppData,
		});
		if (this.tracks.get(track.source) !== track) {
			// Unpublished while the server was answering.
			producer.close();
			void this.#context.signal.request('closeProducer', { producerId: producer.id }).catch(() => undefined);
			return;
		}
		if (track.muted) producer.pause();
		producer.on('trackended', () => {
			// The user stopped a screen share from the browser, or a device went away.
			if (this.tracks.get(track.source) === track) void this.#onTrackEnded(track);
		});
		track.setProducer(producer);
	}
}

function produceOptions(track: LocalTrack, engine: RtcEngine): Omit<types.ProducerOptions, 'track'> {
	if (track.kind === 'audio') {
		// Audio first on a short uplink: the browser gives the voice its share before video (profiles.ts).
		const priority = MEDIA_PROFILES[track.source === 'microphone' ? 'voice' : 'shared-audio'].sendPriority;
		// opusNack: the server asks again for voice packets a weak uplink lost (mediasoup-client
		// announces audio NACK for Chromium; without this option it strips it when sending).
		return { encodings: [{ priority, networkPriority: priority }], codecOptions: { opusStereo: false, opusDtx: true, opusFec: true, opusNack: true } };
	}
	if (track.source === 'screen') {
		return { encodings: SCREEN.encodings.map((e) => ({ ...e })), codecOptions: { videoGoogleStartBitrate: 1000 } };
	}
	if (track.publishOptions.simulcast) {
		const vp8 = engine.device.rtpCapabilities.codecs?.find((c) => c.mimeType.toLowerCase() === 'video/vp8');
		if (vp8) {
			return {
				codec: vp8,
				encodings: CAMERA.encodings.map((e) => ({ ...e })),
				codecOptions: { videoGoogleStartBitrate: 1000 },
			};
		}
	}
	return { encodings: [{ maxBitrate: CAMERA_TOP_LAYER.maxBitrate }], codecOptions: { videoGoogleStartBitrate: 1000 } };
}

async function capture(kind: 'audio' | 'video', constraints: MediaTrackConstraints, deviceId: string | undefined): Promise<MediaStreamTrack> {
	const wanted: MediaTrackConstraints = { ...constraints, ...(deviceId ? { deviceId: { exact: deviceId } } : {}) };
	let stream: MediaStream;
	try {
		stream = await navigator.mediaDevices.getUserMedia(kind === 'video' ? { video: wanted } : { audio: wanted });
	} catch (error) {
		const name = (error as { name?: string }).name ?? 'Error';
		const hint =
			name === 'NotAllowedError'
				? 'permission denied'
				: name === 'NotFoundError' || name === 'OverconstrainedError'
					? 'no such device'
					: name === 'NotReadableError'
						? 'the device is in use by another application'
						: 'capture failed';
		throw new SdkError('media_unavailable', `${kind === 'video' ? 'camera' : 'microphone'}: ${hint} (${name}: ${(error as Error).message})`, { cause: error });
	}
	const [track] = stream.getTracks();
	if (!track) throw new SdkError('media_unavailable', 'capture returned no track');
	return track;
}
