import { getLocalDevices, onDevicesChanged } from './Devices.js';
import { LocalParticipant } from './LocalParticipant.js';
import type { RequestOf, RoomInfo } from './protocol.js';
import type { JoinOutcome } from './MediaSession.js';
import { Reconnection } from './Reconnection.js';
import { RecordingTracker } from './RecordingTracker.js';
import { RoomSession } from './RoomSession.js';
import type { RemoteParticipant } from './RemoteParticipant.js';
import { setSink, type RemoteTrack } from './RemoteTrack.js';
import { ConnectionState, DisconnectReason, ReconnectReason, RoomEvent, type DeviceKind, type RoomEventMap } from './RoomEvent.js';
import { SdkError } from './SdkError.js';
import type { TrackStats } from './stats.js';
import { claimsFromToken } from './token.js';
import { TypedEmitter } from './TypedEmitter.js';
import type { IngestEndpointInfo, IngestSourceInfo, RecordingState, RoomType, Source, WaitingPeer } from './types.js';

/** Options of a {@link Room}. */
export interface RoomOptions {
	/** Room id to enter; the server checks it against the token's `room` claim. Default: the token's room. */
	room?: string;
	/** Receive every published track by itself ({@link RoomEvent.TrackSubscribed}). Default true. */
	autoSubscribe?: boolean;
	/** Time (in ms) to wait for each request's answer. Default 10000. */
	requestTimeoutMs?: number;
	/** Time (in ms) to wait for each signaling connection attempt. Default 10000. */
	connectTimeoutMs?: number;
	/**
	 * Time (in ms) to keep reconnecting after a drop before giving up with
	 * {@link DisconnectReason.ReconnectFailed}. Within the server's grace
	 * period (30 s) the session resumes; after it, the SDK rebuilds it.
	 * Default 60000.
	 */
	reconnectTimeoutMs?: number;
	/** Socket.IO path on the server. Default '/socket.io'. */
	path?: string;
	/**
	 * Receive each video in the simulcast layer that fits the elements it is
	 * attached to (`track.attach()`), and pause it while none of them is
	 * visible. {@link RemoteTrack.setVideoQuality} overrides it per track.
	 * Recommended for galleries and grand rounds with many videos. Default
	 * false (every video arrives in the highest layer the link allows).
	 */
	adaptiveStream?: boolean;
	/** Time (in ms) between statistics samples (connection quality, degradation). Default 2000. */
	statsIntervalMs?: number;
	/** Time (in ms) to wait for media to flow again after signaling is back, before rebuilding the transports. Default 10000. */
	mediaReconnectTimeoutMs?: number;
	/**
	 * 'relay' sends all media through the TURN servers the server hands out,
	 * from the start (a network known to let nothing else through; saves the
	 * fallback's wait). Default 'all': direct paths first (UDP, then ICE-TCP).
	 */
	iceTransportPolicy?: 'all' | 'relay';
	/**
	 * Time (in ms) a new transport may try its direct paths before the SDK
	 * rebuilds the transports relay-only, when the server handed out TURN
	 * servers. 0 turns the fallback off. Default 8000.
	 */
	relayFallbackMs?: number;
	/**
	 * Supplies the token for each reconnection (e.g. a fresh one from the
	 * portal, when sessions outlive tokens). Default: the token given to
	 * `connect`.
	 */
	tokenProvider?: () => string | Promise<string>;
}

/** How many times `connect` follows a cluster's `room_elsewhere` to another node. */
const MAX_REDIRECTS = 2;

const NO_PARTICIPANTS: ReadonlyMap<string, RemoteParticipant> = new Map();

/**
 * A telehealth room as seen by this participant: the connection, the local
 * participant, the remote participants and their tracks. Single use: once
 * {@link RoomEvent.Disconnected} fired, create a new Room to join again.
 *
 * ```ts
 * const room = new Room();
 * room.on(RoomEvent.TrackSubscribed, (track) => document.body.append(track.attach()));
 * await room.connect('https://sfu.example.org', token);
 * await room.localParticipant.enableCamera();
 * ```
 */
export class Room extends TypedEmitter<RoomEventMap> {
	/** This participant. */
	readonly localParticipant: LocalParticipant;

	readonly #options: Required<Omit<RoomOptions, 'room' | 'tokenProvider' | 'path'>> & Pick<RoomOptions, 'room' | 'tokenProvider' | 'path'>;
	#session: RoomSession | undefined;
	#state = ConnectionState.Disconnected;
	#used = false;
	#ended = false;
	#endReason: DisconnectReason | undefined;
	#roomInfo: RoomInfo | undefined;
	#waitingList: WaitingPeer[] = [];
	#activeSpeakerId: string | null = null;
	readonly #reconnection: Reconnection;
	#audioBlocked = false;
	#audioOutput: string | undefined;
	#audioOnly = false;
	/** The camera was muted by audio-only mode (and is unmuted when it ends). */
	#cameraMutedForAudioOnly = false;
	#audience: number | undefined;
	readonly #ingestSources = new Map<string, IngestSourceInfo>();
	readonly #recording = new RecordingTracker(this);
	readonly #cleanups: (() => void)[] = [];

	/**
	 * Lists the cameras (`videoinput`), microphones (`audioinput`) or speakers
	 * (`audiooutput`) for a device picker; asks for permission first so that
	 * their names are known (unless `requestPermissions` is false).
	 */
	static getLocalDevices(kind?: DeviceKind, requestPermissions = true): Promise<MediaDeviceInfo[]> {
		return getLocalDevices(kind, requestPermissions);
	}

	constructor(options: RoomOptions = {}) {
		super();
		this.#options = {
			autoSubscribe: true,
			requestTimeoutMs: 10_000,
			connectTimeoutMs: 10_000,
			reconnectTimeoutMs: 60_000,
			adaptiveStream: false,
			statsIntervalMs: 2000,
			mediaReconnectTimeoutMs: 10_000,
			iceTransportPolicy: 'all',
			relayFallbackMs: 8000,
			...options,
		};
		this.#reconnection = new Reconnection({
			reconnectTimeoutMs: this.#options.reconnectTimeoutMs,
			mediaReconnectTimeoutMs: this.#options.mediaReconnectTimeoutMs,
			ended: () => this.#ended,
			state: () => this.#state,
			session: () => this.#session,
			join: (options) => this.#join(options),
			reconnecting: (reason) => {
				this.#setState(ConnectionState.Reconnecting);
				this.emit(RoomEvent.Reconnecting, reason);
			},
			reconnected: (info) => {
				this.#setState(ConnectionState.Connected);
				this.#session?.monitor.start();
				this.#session?.monitor.settle();
				if (info) this.emit(RoomEvent.Reconnected, info);
			},
			fail: (error) => this.#end(DisconnectReason.ReconnectFailed, error),
		});
		// The participant exists before connect(); the session it uses comes later.
		// eslint-disable-next-line @typescript-eslint/no-this-alias
		const room = this;
		this.localParticipant = new LocalParticipant({
			get engine() {
				return room.#requireSession().engine;
			},
			get signal() {
				return room.#requireSession().signal;
			},
			events: this,
			assertJoined: () => {
				// While media alone is being restored, signaling works and publishing can go on.
				const mediaOnly = this.#state === ConnectionState.Reconnecting && this.#reconnection.reason === ReconnectReason.MediaLost && !!this.#session?.signal.connected;
				if (this.#state !== ConnectionState.Connected && !mediaOnly) {
					throw new SdkError('client_invalid_state', `cannot publish while ${this.#state}`);
				}
			},
		});
	}

	/** Where the connection stands. */
	get state(): ConnectionState {
		return this.#state;
	}

	/** Room id (known once joined or waiting). */
	get name(): string | undefined {
		return this.#roomInfo?.id ?? this.#options.room;
	}

	/** 'consult', or 'broadcast' for a grand round (known once joined). */
	get type(): RoomType {
		return this.#roomInfo?.type ?? 'consult';
	}

	/** Broadcast rooms, presenters: how many viewers watch (undefined until the server says). */
	get audience(): number | undefined {
		return this.#audience;
	}

	/** Device sources the server pulls into the room, by ingest id, as last announced. */
	get ingestSources(): ReadonlyMap<string, IngestSourceInfo> {
		return this.#ingestSources;
	}

	/** Whether the room makes patients wait for admission. */
	get waitingRoomEnabled(): boolean {
		return this.#roomInfo?.waitingRoom ?? false;
	}

	/** The other participants, by peer id. */
	get participants(): ReadonlyMap<string, RemoteParticipant> {
		return this.#session?.subscriber.participants ?? NO_PARTICIPANTS;
	}

	/** Hosts: who waits for admission (kept up to date by {@link RoomEvent.WaitingListChanged}). */
	get waitingList(): readonly WaitingPeer[] {
		return this.#waitingList;
	}

	/** The participant speaking loudest now, if the server reported one. */
	get activeSpeaker(): RemoteParticipant | LocalParticipant | null {
		return this.#participantById(this.#activeSpeakerId);
	}

	/** The room's recording as last announced (`active` false when not recording). */
	get recording(): RecordingState {
		return this.#recording.state;
	}

	/** True while the room is being recorded. */
	get isRecording(): boolean {
		return this.#recording.state.active;
	}

	/** True after the browser refused to autoplay audio; see {@link startAudio}. */
	get audioPlaybackBlocked(): boolean {
		return this.#audioBlocked;
	}

	/**
	 * Connects to the signaling server at `url` and joins the room named by
	 * `token`. Resolves once joined (state Connected) or once placed in the
	 * waiting room (state WaitingForAdmission; {@link RoomEvent.Admitted}
	 * follows, then the SDK joins by itself). Rejects with an {@link SdkError}
	 * (`auth_invalid_token`, `auth_token_expired`, `connection_failed`, …).
	 */
	async connect(url: string, token: string): Promise<void> {
		if (this.#used) throw new SdkError('client_invalid_state', 'a Room connects once; create a new Room');
		this.#used = true;
		const claims = claimsFromToken(token);
		this.localParticipant.setIdentity('', claims.role, claims.name ?? '');
		const tokenProvider = this.#options.tokenProvider;
		let first = true;
		const getToken = (): string | Promise<string> => {
			if (first || !tokenProvider) {
				first = false;
				return token;
			}
			return tokenProvider();
		};
		let target = url;
		for (let redirects = 0; ; redirects++) {
			const session = this.#createSession(target, getToken);
			this.#session = session;
			this.#listen(session.signal);
			this.#setState(ConnectionState.Connecting);
			try {
				await session.signal.open();
				const outcome = await this.#join();
				if (outcome !== 'waiting') this.#onJoined();
				break;
			} catch (error) {
				const sdkError = SdkError.from(error, 'connection_failed');
				// A cluster: the room is hosted by another node, which the server names.
				if (sdkError.code === 'room_elsewhere' && sdkError.redirectUrl && redirects < MAX_REDIRECTS && !this.#ended) {
					for (const cleanup of this.#cleanups.splice(0)) cleanup();
					session.close();
					target = sdkError.redirectUrl;
					first = true;
					continue;
				}
				this.#end(DisconnectReason.JoinFailed, sdkError);
				throw sdkError;
			}
		}
		if (this.#ended) throw new SdkError('closed', 'the room ended while joining');
	}

	/** Leaves the room now (no grace period) and releases every resource. Idempotent. */
	async leave(): Promise<void> {
		if (this.#ended || !this.#session) return;
		const { signal } = this.#session;
		if (signal.connected) await signal.request('leave', {}, 2000).catch(() => undefined);
		this.#end(DisconnectReason.ClientLeft);
	}

	/** Receives the track of `producerId` (when `autoSubscribe` is off, or after unsubscribing). */
	subscribe(producerId: string): Promise<RemoteTrack> {
		return this.#requireSession().subscriber.subscribe(producerId);
	}

	/** Stops receiving the track of `producerId`. */
	unsubscribe(producerId: string): Promise<void> {
		return this.#requireSession().subscriber.unsubscribe(producerId);
	}

	/** Hosts: lets a waiting participant in. */
	async admit(peerId: string): Promise<void> {
		await this.#request('admit', { peerId });
	}

	/** Hosts: turns a waiting participant away. */
	async deny(peerId: string): Promise<void> {
		await this.#request('deny', { peerId });
	}

	/** Hosts: mutes a participant's `source`, or all its tracks; resolves with the producers paused. */
	async muteParticipant(peerId: string, source?: Source): Promise<string[]> {
		const { producerIds } = await this.#request('mutePeer', source ? { peerId, source } : { peerId });
		return producerIds;
	}

	/** Hosts: removes a participant from the room. */
	async removeParticipant(peerId: string): Promise<void> {
		await this.#request('removePeer', { peerId });
	}

	/** Hosts: ends the room for everyone (this Room ends too, with {@link RoomEvent.RoomClosed}). */
	async endRoom(): Promise<void> {
		try {
			await this.#request('endRoom', {});
		} catch (error) {
			// The server may close the connection before its answer arrives: the
			// room being over is the success this call asked for.
			if (this.#endReason !== DisconnectReason.RoomClosed) throw error;
		}
	}

	/**
	 * Hosts and device roles: where a hardware encoder should send its RTP (push
	 * ingest); the answer carries addresses, payload types, random SSRCs, the
	 * SRTP key (SRTP unless `srtp: false`) and an SDP. `sourceAddress`
	 * (`ip[:port]`) accepts only that sender.
	 */
	createIngest(options: { kinds?: ('audio' | 'video')[]; srtp?: boolean; sourceAddress?: string } = {}): Promise<IngestEndpointInfo> {
		return this.#requireSession().signal.request('createIngest', options);
	}

	/** Hosts: the server pulls an RTSP / SRT / HTTP(S) / HLS device source into the room; resolves with its ingest id. */
	async addIngestSource(url: string, name?: string): Promise<string> {
		return (await this.#requireSession().signal.request('addIngestSource', name === undefined ? { url } : { url, name })).ingestId;
	}

	/** Hosts: stops pulling a device source. */
	async removeIngestSource(ingestId: string): Promise<void> {
		await this.#requireSession().signal.request('removeIngestSource', { ingestId });
	}

	// --- Recording -------------------------------------------------------------------

	/**
	 * Hosts: starts recording the room; everyone gets
	 * {@link RoomEvent.RecordingStarted}. With `requireConsent`, only
	 * participants who consent ({@link setRecordingConsent}) are recorded.
	 * Resolves with the recording id.
	 */
	async startRecording(options: { requireConsent?: boolean } = {}): Promise<string> {
		const payload = options.requireConsent === undefined ? {} : { requireConsent: options.requireConsent };
		return (await this.#requireSession().signal.request('startRecording', payload)).recordingId;
	}

	/** Hosts: stops the recording ({@link RoomEvent.RecordingStopped} follows). */
	async stopRecording(): Promise<void> {
		await this.#requireSession().signal.request('stopRecording', {});
	}

	/** This participant's answer to a recording that requires consent; `false` withdraws it. */
	async setRecordingConsent(consent: boolean): Promise<void> {
		await this.#requireSession().signal.request('setRecordingConsent', { consent });
	}

	// --- Devices ---------------------------------------------------------------------

	/**
	 * Switches the camera, microphone or speaker in the middle of the call.
	 * Cameras and microphones are captured anew and swapped under the same
	 * producer (RTCRtpSender.replaceTrack: no renegotiation; the others keep
	 * receiving without a gap). Before a track is published, the device is
	 * remembered for `enableCamera` / `enableMicrophone`.
	 */
	async switchActiveDevice(kind: DeviceKind, deviceId: string): Promise<void> {
		if (kind === 'audiooutput') {
			this.#audioOutput = deviceId;
			const session = this.#session;
			const elements = session ? [...session.subscriber.tracks()].flatMap(([t]) => (t.kind === 'audio' ? t.attachedElements : [])) : [];
			await Promise.all(elements.map((el) => setSink(el, deviceId)));
		} else {
			try {
				await this.localParticipant.switchDevice(kind, deviceId);
			} catch (error) {
				const sdkError = SdkError.from(error, 'media_unavailable');
				this.emit(RoomEvent.MediaDevicesError, sdkError, kind);
				throw sdkError;
			}
		}
		this.emit(RoomEvent.ActiveDeviceChanged, kind, deviceId);
	}

	/** The device in use (or chosen) for `kind`, when known. */
	getActiveDevice(kind: DeviceKind): string | undefined {
		if (kind === 'audiooutput') return this.#audioOutput;
		return this.localParticipant.getTrack(kind === 'videoinput' ? 'camera' : 'microphone')?.deviceId;
	}

	// --- Audio only ------------------------------------------------------------------

	/** True while audio-only mode is on ({@link setAudioOnly}). */
	get audioOnly(): boolean {
		return this.#audioOnly;
	}

	/**
	 * Audio only: the explicit switch for a link too weak for video, for a
	 * clinician or a patient to press. On: this participant's camera is muted
	 * (others see it paused) and every received camera video is paused on the
	 * server, so the whole link carries the voices (screen shares and device
	 * streams continue). Off: what audio-only paused comes back (a camera the
	 * user had muted before stays muted). Also applies to tracks published or
	 * received later. {@link RoomEvent.AudioOnlyChanged} follows.
	 */
	async setAudioOnly(enabled: boolean): Promise<void> {
		if (enabled === this.#audioOnly) return;
		this.#audioOnly = enabled;
		this.#session?.subscriber.setAudioOnly(enabled);
		const camera = this.localParticipant.getTrack('camera');
		if (enabled && camera && !camera.muted) {
			this.#cameraMutedForAudioOnly = true;
			await camera.mute();
		} else if (!enabled && this.#cameraMutedForAudioOnly) {
			this.#cameraMutedForAudioOnly = false;
			if (camera?.muted) await camera.unmute();
		}
		this.emit(RoomEvent.AudioOnlyChanged, enabled);
	}

	// --- Statistics ------------------------------------------------------------------

	/**
	 * Simplified statistics of every received and published track: bitrate,
	 * packet loss, round trip, resolution, frame rate (see {@link TrackStats}).
	 */
	async getTrackStats(): Promise<TrackStats[]> {
		return (await this.#session?.monitor.collect()) ?? [];
	}

	/**
	 * Starts audio the browser's autoplay policy blocked. Call it from a user
	 * gesture (a click) after {@link RoomEvent.AudioPlaybackBlocked}.
	 */
	async startAudio(): Promise<void> {
		const session = this.#session;
		if (!session) return;
		const results = await Promise.all([...session.subscriber.tracks()].map(([track]) => track.replay()));
		this.#audioBlocked = !results.every(Boolean);
	}

	/**
	 * For diagnostics and tests only: drops the signaling connection as a
	 * network failure would (closes Socket.IO's engine). Socket.IO reconnects
	 * by itself and the room resumes its session ({@link RoomEvent.Reconnecting},
	 * then {@link RoomEvent.Reconnected}).
	 */
	simulateSignalingDrop(): void {
		this.#session?.signal.dropTransport();
	}

	// --- Joining -------------------------------------------------------------------

	/** Joins (or resumes) and applies the outcome to the room's state. */
	async #join(options: { freshTransports?: boolean } = {}): Promise<JoinOutcome> {
		const { outcome, answer } = await this.#requireSession().media.join(() => this.#ended, options);
		if (this.#ended) return outcome;
		this.#roomInfo = answer.room;
		if (outcome === 'waiting') {
			this.#setState(ConnectionState.WaitingForAdmission);
			this.emit(RoomEvent.WaitingForAdmission);
		}
		return outcome;
	}

	#createSession(url: string, getToken: () => string | Promise<string>): RoomSession {
		const options = this.#options;
		// eslint-disable-next-line @typescript-eslint/no-this-alias
		const room = this;
		return new RoomSession({
			url,
			room: options.room,
			path: options.path,
			requestTimeoutMs: options.requestTimeoutMs,
			connectTimeoutMs: options.connectTimeoutMs,
			autoSubscribe: options.autoSubscribe,
			adaptiveStream: options.adaptiveStream,
			statsIntervalMs: options.statsIntervalMs,
			iceTransportPolicy: options.iceTransportPolicy,
			relayFallbackMs: options.relayFallbackMs,
			getToken,
			events: this,
			local: this.localParticipant,
			audioOutput: () => room.#audioOutput,
			audioOnly: () => room.#audioOnly,
			onPlaybackBlocked: () => this.#onPlaybackBlocked(),
			joined: () => this.#state === ConnectionState.Connected,
			watchdog: {
				onLost: () => this.#reconnection.onMediaLost(),
				onRestored: () => this.#reconnection.onMediaRestored(),
				onGiveUp: () => this.#reconnection.onMediaGaveUp(),
				onSignalDead: () => this.#reconnection.onSignalDead(),
				sending: () => [...this.localParticipant.tracks.values()].some((t) => !t.muted && !!t.producer && !t.producer.closed),
			},
		});
	}

	/** Joined (first time, or after admission): media and statistics start. */
	#onJoined(): void {
		this.#setState(ConnectionState.Connected);
		this.#session?.monitor.start();
	}

	// --- Connection events ---------------------------------------------------------

	#listen(signal: RoomSession['signal']): void {
		signal.on('disconnected', (_reason, willReconnect) => {
			if (this.#ended) return;
			if (!willReconnect) {
				this.#end(DisconnectReason.ServerDisconnected, new SdkError('disconnected', 'the server closed the connection'));
				return;
			}
			this.#reconnection.onSignalLost();
		});
		signal.on('reconnected', () => void this.#reconnection.onSignalBack());
		signal.on('reconnectRefused', (error) => this.#end(DisconnectReason.ReconnectFailed, error));
		if (typeof window !== 'undefined') {
			// The browser says the network is back: retry now rather than at the next backoff tick.
			const onOnline = (): void => this.#reconnection.onOnline();
			window.addEventListener('online', onOnline);
			this.#cleanups.push(() => window.removeEventListener('online', onOnline));
		}
		this.#cleanups.push(onDevicesChanged(() => this.emit(RoomEvent.MediaDevicesChanged)));
		signal.onNotification('recordingState', (state) => this.#recording.update(state));
		signal.onNotification('audience', ({ viewers }) => {
			this.#audience = viewers;
			this.emit(RoomEvent.AudienceChanged, viewers);
		});
		signal.onNotification('ingestState', (source) => {
			const info: IngestSourceInfo = { ...source };
			if (info.state === 'stopped') this.#ingestSources.delete(info.ingestId);
			else this.#ingestSources.set(info.ingestId, info);
			this.emit(RoomEvent.IngestStateChanged, info);
		});
		signal.onNotification('consumerScore', ({ consumerId, score, producerScore }) => {
			for (const [track] of this.#session?.subscriber.tracks() ?? []) if (track.consumerId === consumerId) track.setScore(score, producerScore);
		});

		signal.onNotification('admitted', () => {
			if (this.#state !== ConnectionState.WaitingForAdmission) return;
			this.emit(RoomEvent.Admitted);
			this.#setState(ConnectionState.Connecting);
			this.#join().then(
				(outcome) => {
					if (!this.#ended && outcome !== 'waiting') this.#onJoined();
				},
				(error: unknown) => this.#end(DisconnectReason.JoinFailed, SdkError.from(error)),
			);
		});
		signal.onNotification('denied', () => {
			this.emit(RoomEvent.Denied);
			this.#end(DisconnectReason.Denied);
		});
		signal.onNotification('kicked', ({ reason }) => {
			this.emit(RoomEvent.Kicked, reason);
			this.#end(DisconnectReason.Kicked);
		});
		signal.onNotification('roomClosed', ({ reason }) => {
			this.emit(RoomEvent.RoomClosed, reason);
			this.#end(DisconnectReason.RoomClosed);
		});
		signal.onNotification('serverDraining', () => this.#reconnection.onServerDraining());
		signal.onNotification('mutedByHost', ({ producerId }) => this.localParticipant.onMutedByHost(producerId));
		signal.onNotification('activeSpeaker', ({ peerId }) => {
			if (peerId === this.#activeSpeakerId) return;
			this.#activeSpeakerId = peerId;
			this.emit(RoomEvent.ActiveSpeakerChanged, this.#participantById(peerId));
		});
		signal.onNotification('waitingRoom', ({ peers }) => {
			this.#waitingList = peers;
			this.emit(RoomEvent.WaitingListChanged, peers);
		});
	}

	#end(reason: DisconnectReason, error?: SdkError): void {
		if (this.#ended) return;
		this.#ended = true;
		this.#endReason = reason;
		this.#reconnection.cancel();
		for (const cleanup of this.#cleanups.splice(0)) cleanup();
		this.localParticipant.close();
		this.#session?.close();
		this.#setState(ConnectionState.Disconnected);
		this.emit(RoomEvent.Disconnected, reason, error);
	}

	// --- Helpers -------------------------------------------------------------------

	#setState(state: ConnectionState): void {
		if (state === this.#state) return;
		const previous = this.#state;
		this.#state = state;
		this.emit(RoomEvent.ConnectionStateChanged, state, previous);
	}

	#requireSession(): RoomSession {
		if (this.#ended) throw new SdkError('closed', 'the room is closed');
		if (!this.#session) throw new SdkError('client_invalid_state', 'the room is not connected; call connect() first');
		return this.#session;
	}

	#request<M extends 'admit' | 'deny' | 'mutePeer' | 'removePeer' | 'endRoom'>(method: M, payload: RequestOf<M>) {
		return this.#requireSession().signal.request(method, payload);
	}

	#participantById(peerId: string | null): RemoteParticipant | LocalParticipant | null {
		if (peerId === null) return null;
		if (peerId === this.localParticipant.id) return this.localParticipant;
		return this.participants.get(peerId) ?? null;
	}

	#onPlaybackBlocked(): void {
		if (this.#audioBlocked) return;
		this.#audioBlocked = true;
		this.emit(RoomEvent.AudioPlaybackBlocked);
	}
}
