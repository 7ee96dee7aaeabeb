import type { LocalParticipant } from './LocalParticipant.js';
import type { LocalTrack } from './LocalTrack.js';
import type { CloseReason, IngestSourceInfo, KickReason, ProducerInfo, RecordingState, RoomClosedReason, WaitingPeer } from './types.js';
import type { RemoteParticipant } from './RemoteParticipant.js';
import type { RemoteTrack } from './RemoteTrack.js';
import type { SdkError } from './SdkError.js';
import type { MediaPath } from './stats.js';

/** Where the room's connection stands. */
export enum ConnectionState {
	/** Not connected: before `connect()`, or after the room ended for any reason. */
	Disconnected = 'disconnected',
	/** Signaling is connecting or the first `join` is in flight. */
	Connecting = 'connecting',
	/** In the waiting room: a host must admit this participant. */
	WaitingForAdmission = 'waiting',
	/** Joined: media can be published and received. */
	Connected = 'connected',
	/** Signaling or media dropped; the SDK is reconnecting and will resume (or rebuild) the session. */
	Reconnecting = 'reconnecting',
}

/** What was lost when the room started reconnecting ({@link RoomEvent.Reconnecting}). */
export enum ReconnectReason {
	/** The signaling connection dropped (network loss, server restart, the browser going offline). */
	SignalLost = 'signal_lost',
	/** Signaling is up but media stopped flowing (ICE/DTLS disconnected or failed: a network switch, a VPN toggle, UDP blocked). */
	MediaLost = 'media_lost',
	/** The server node this client used is shutting down (a rolling update): the session moves to another node. */
	ServerMoved = 'server_moved',
}

/**
 * Quality of a participant's connection, from WebRTC statistics
 * ({@link RoomEvent.ConnectionQualityChanged}).
 * For this participant: the worse of its uplink and downlink to the server.
 * For a remote participant: what reaches this browser from it (its uplink
 * and this participant's downlink together).
 */
export enum ConnectionQuality {
	/** Loss under 2 %, round trip under 250 ms, low jitter. */
	Excellent = 'excellent',
	/** Some loss (under 10 %) or delay (under 500 ms): usable, video may be lowered. */
	Good = 'good',
	/** Heavy loss or delay: audio is kept first, video is lowered or paused. */
	Poor = 'poor',
	/** Nothing arrives (network lost or media path broken). */
	Lost = 'lost',
	/** Not measured yet, or nothing to measure (e.g. an observer that sends nothing). */
	Unknown = 'unknown',
}

/** Simulcast quality of a received video ({@link RemoteTrack.setVideoQuality}). */
export enum VideoQuality {
	/** Lowest layer (¼ resolution, e.g. 320x180): thumbnails, weak links. */
	Low = 0,
	/** Middle layer (½ resolution, e.g. 640x360). */
	Medium = 1,
	/** Full resolution (e.g. 1280x720). */
	High = 2,
}

/** Whether a received video is flowing or paused by the SDK to save bandwidth ({@link RoomEvent.TrackStreamStateChanged}). */
export enum TrackStreamState {
	/** Media flows. */
	Active = 'active',
	/** Paused by the SDK: not visible on the page, or the link is too poor for video (audio continues). */
	Paused = 'paused',
}

/** Media device kinds the room can switch ({@link Room.switchActiveDevice}). */
export type DeviceKind = 'videoinput' | 'audioinput' | 'audiooutput';

/** Why a room ended ({@link RoomEvent.Disconnected}). */
export enum DisconnectReason {
	/** `room.leave()` was called. */
	ClientLeft = 'client_left',
	/** A host removed this participant, or its token expired ({@link RoomEvent.Kicked}). */
	Kicked = 'kicked',
	/** A host declined admission from the waiting room. */
	Denied = 'denied',
	/** The room was ended or closed ({@link RoomEvent.RoomClosed}). */
	RoomClosed = 'room_closed',
	/** The server closed the connection without saying why. */
	ServerDisconnected = 'server_disconnected',
	/** Reconnecting failed (gave up, or the server refused the resumed session); see the error. */
	ReconnectFailed = 'reconnect_failed',
	/** The first connection or `join` failed; see the error. */
	JoinFailed = 'join_failed',
}

/** Events of a {@link Room}; payloads are listed in {@link RoomEventMap}. */
export enum RoomEvent {
	/** Connection state changed: `(state, previous)`. */
	ConnectionStateChanged = 'connectionStateChanged',
	/** A remote participant entered the room: `(participant)`. Not fired for those present at join. */
	ParticipantJoined = 'participantJoined',
	/** A remote participant left: `(participant, reason)`. */
	ParticipantLeft = 'participantLeft',
	/** A remote participant published a track: `(producer, participant)`. */
	TrackPublished = 'trackPublished',
	/** A remote participant stopped publishing a track: `(producer, participant)`. */
	TrackUnpublished = 'trackUnpublished',
	/** A remote track is being received and can be attached: `(track, participant)`. */
	TrackSubscribed = 'trackSubscribed',
	/** A remote track stopped being received: `(track, participant)`. */
	TrackUnsubscribed = 'trackUnsubscribed',
	/** Subscribing to a remote track failed: `(producerId, error)`. */
	TrackSubscriptionFailed = 'trackSubscriptionFailed',
	/** A track was muted (remote: its sender paused; local: paused here or by a host): `(track, participant)`. */
	TrackMuted = 'trackMuted',
	/** A muted track resumed: `(track, participant)`. */
	TrackUnmuted = 'trackUnmuted',
	/** The simulcast layer being received changed: `(track, spatialLayer, temporalLayer)`. */
	TrackLayersChanged = 'trackLayersChanged',
	/** A local track was published: `(track)`. */
	LocalTrackPublished = 'localTrackPublished',
	/** A local track was unpublished: `(track)`. */
	LocalTrackUnpublished = 'localTrackUnpublished',
	/** A host muted one of this participant's tracks (also fires TrackMuted): `(track)`. */
	MutedByHost = 'mutedByHost',
	/** The loudest participant changed (`null`: silence): `(participant)`. */
	ActiveSpeakerChanged = 'activeSpeakerChanged',
	/** This participant is in the waiting room: `()`. */
	WaitingForAdmission = 'waitingForAdmission',
	/** A host admitted this participant; the SDK joins by itself: `()`. */
	Admitted = 'admitted',
	/** A host declined admission; the room ends: `()`. */
	Denied = 'denied',
	/** Hosts only: who is in the waiting room now: `(peers)`. */
	WaitingListChanged = 'waitingListChanged',
	/** This participant was removed from the room: `(reason)`. */
	Kicked = 'kicked',
	/** The room was closed for everyone: `(reason)`. */
	RoomClosed = 'roomClosed',
	/** Signaling or media dropped; the SDK is reconnecting by itself: `(reason)`. */
	Reconnecting = 'reconnecting',
	/** Media flows again after a drop; the session was resumed or rebuilt: `({ resumed, reason, durationMs })`. */
	Reconnected = 'reconnected',
	/**
	 * A participant's connection quality changed: `(quality, participant, mediaPath)`. `mediaPath` is
	 * this browser's path to the server involved ('udp' | 'tcp' | 'relay'; for this participant the
	 * most roundabout of its transports, for a remote one the receiving transport), when known.
	 */
	ConnectionQualityChanged = 'connectionQualityChanged',
	/** This browser's media path to the server changed (e.g. 'udp', or 'relay' after falling back to TURN): `(path, previous)`. */
	MediaPathChanged = 'mediaPathChanged',
	/** Audio-only mode was switched on or off ({@link Room.setAudioOnly}): `(enabled)`. */
	AudioOnlyChanged = 'audioOnlyChanged',
	/** A received video was paused or resumed by the SDK (visibility, weak link): `(track, state, participant)`. */
	TrackStreamStateChanged = 'trackStreamStateChanged',
	/** The room started recording (show it to the user): `(recording)`. */
	RecordingStarted = 'recordingStarted',
	/** The room stopped recording (`recording.error` says why, when not by request): `(recording)`. */
	RecordingStopped = 'recordingStopped',
	/** Any change of the recording state (who is recorded, consent): `(recording)`. */
	RecordingStateChanged = 'recordingStateChanged',
	/** Broadcast rooms (grand rounds), to presenters: how many viewers watch now: `(viewers)`. */
	AudienceChanged = 'audienceChanged',
	/** A device source the server pulls (endoscope, ultrasound over RTSP/SRT) changed state: `(source)`. */
	IngestStateChanged = 'ingestStateChanged',
	/** Cameras, microphones or speakers were plugged in or out: `()`. */
	MediaDevicesChanged = 'mediaDevicesChanged',
	/** The device in use for `kind` changed: `(kind, deviceId)`. */
	ActiveDeviceChanged = 'activeDeviceChanged',
	/** Capturing from a device failed (unplugged, refused); the SDK kept what it could: `(error, kind)`. */
	MediaDevicesError = 'mediaDevicesError',
	/** The room ended; it cannot be reused: `(reason, error?)`. */
	Disconnected = 'disconnected',
	/** The browser refused to start audio without a user gesture; call `room.startAudio()` from one: `()`. */
	AudioPlaybackBlocked = 'audioPlaybackBlocked',
}

/** Payloads of each {@link RoomEvent}. */
export type RoomEventMap = {
	[RoomEvent.ConnectionStateChanged]: [state: ConnectionState, previous: ConnectionState];
	[RoomEvent.ParticipantJoined]: [participant: RemoteParticipant];
	[RoomEvent.ParticipantLeft]: [participant: RemoteParticipant, reason: CloseReason];
	[RoomEvent.TrackPublished]: [producer: ProducerInfo, participant: RemoteParticipant];
	[RoomEvent.TrackUnpublished]: [producer: ProducerInfo, participant: RemoteParticipant];
	[RoomEvent.TrackSubscribed]: [track: RemoteTrack, participant: RemoteParticipant];
	[RoomEvent.TrackUnsubscribed]: [track: RemoteTrack, participant: RemoteParticipant];
	[RoomEvent.TrackSubscriptionFailed]: [producerId: string, error: SdkError];
	[RoomEvent.TrackMuted]: [track: RemoteTrack | LocalTrack, participant: RemoteParticipant | LocalParticipant];
	[RoomEvent.TrackUnmuted]: [track: RemoteTrack | LocalTrack, participant: RemoteParticipant | LocalParticipant];
	[RoomEvent.TrackLayersChanged]: [track: RemoteTrack, spatialLayer: number | null, temporalLayer: number | null];
	[RoomEvent.LocalTrackPublished]: [track: LocalTrack];
	[RoomEvent.LocalTrackUnpublished]: [track: LocalTrack];
	[RoomEvent.MutedByHost]: [track: LocalTrack];
	[RoomEvent.ActiveSpeakerChanged]: [participant: RemoteParticipant | LocalParticipant | null];
	[RoomEvent.WaitingForAdmission]: [];
	[RoomEvent.Admitted]: [];
	[RoomEvent.Denied]: [];
	[RoomEvent.WaitingListChanged]: [peers: WaitingPeer[]];
	[RoomEvent.Kicked]: [reason: KickReason];
	[RoomEvent.RoomClosed]: [reason: RoomClosedReason];
	[RoomEvent.Reconnecting]: [reason: ReconnectReason];
	[RoomEvent.Reconnected]: [info: ReconnectedInfo];
	[RoomEvent.ConnectionQualityChanged]: [quality: ConnectionQuality, participant: RemoteParticipant | LocalParticipant, mediaPath: MediaPath | undefined];
	[RoomEvent.MediaPathChanged]: [path: MediaPath | undefined, previous: MediaPath | undefined];
	[RoomEvent.AudioOnlyChanged]: [enabled: boolean];
	[RoomEvent.TrackStreamStateChanged]: [track: RemoteTrack, state: TrackStreamState, participant: RemoteParticipant];
	[RoomEvent.RecordingStarted]: [recording: RecordingState];
	[RoomEvent.RecordingStopped]: [recording: RecordingState];
	[RoomEvent.RecordingStateChanged]: [recording: RecordingState];
	[RoomEvent.AudienceChanged]: [viewers: number];
	[RoomEvent.IngestStateChanged]: [source: IngestSourceInfo];
	[RoomEvent.MediaDevicesChanged]: [];
	[RoomEvent.ActiveDeviceChanged]: [kind: DeviceKind, deviceId: string];
	[RoomEvent.MediaDevicesError]: [error: SdkError, kind: DeviceKind];
	[RoomEvent.Disconnected]: [reason: DisconnectReason, error?: SdkError];
	[RoomEvent.AudioPlaybackBlocked]: [];
};

/** Payload of {@link RoomEvent.Reconnected}. */
export interface ReconnectedInfo {
	/** True when the server kept the session (ICE restarted, nothing republished); false when it was rebuilt (tracks republished and resubscribed). */
	resumed: boolean;
	/** What had been lost. */
	reason: ReconnectReason;
	/** Time (in ms) from {@link RoomEvent.Reconnecting} until media flowed again. */
	durationMs: number;
}
