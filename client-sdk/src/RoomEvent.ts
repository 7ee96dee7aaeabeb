import type { LocalParticipant } from './LocalParticipant.js';
import type { LocalTrack } from './LocalTrack.js';
import type { ProducerInfo, WaitingPeer, CloseReason, NotificationMap } from './protocol.js';
import type { RemoteParticipant } from './RemoteParticipant.js';
import type { RemoteTrack } from './RemoteTrack.js';
import type { SdkError } from './SdkError.js';

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
	/** Signaling dropped; the SDK is reconnecting and will resume the session. */
	Reconnecting = 'reconnecting',
}

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
	/** Signaling dropped; reconnecting: `()`. */
	Reconnecting = 'reconnecting',
	/** The session was resumed (or rebuilt) after a drop: `({ resumed })`. */
	Reconnected = 'reconnected',
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
	[RoomEvent.Kicked]: [reason: NotificationMap['kicked']['reason']];
	[RoomEvent.RoomClosed]: [reason: NotificationMap['roomClosed']['reason']];
	[RoomEvent.Reconnecting]: [];
	[RoomEvent.Reconnected]: [info: { resumed: boolean }];
	[RoomEvent.Disconnected]: [reason: DisconnectReason, error?: SdkError];
	[RoomEvent.AudioPlaybackBlocked]: [];
};
