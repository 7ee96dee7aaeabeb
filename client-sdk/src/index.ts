/**
 * Telehealth SFU client SDK: the public surface.
 *
 * ```ts
 * import { connect, RoomEvent } from './telehealth-sdk.esm.js';
 * const room = await connect('https://sfu.example.org', token, { room: 'visit-42' });
 * room.on(RoomEvent.TrackSubscribed, (track, participant) => grid.append(track.attach()));
 * await room.localParticipant.enableCamera({ simulcast: true });
 * await room.localParticipant.enableMicrophone();
 * ```
 */
export { connect } from './connect.js';
export { Room, type RoomOptions } from './Room.js';
export {
	RoomEvent,
	ConnectionState,
	ConnectionQuality,
	DisconnectReason,
	ReconnectReason,
	TrackStreamState,
	VideoQuality,
	type DeviceKind,
	type ReconnectedInfo,
	type RoomEventMap,
} from './RoomEvent.js';
export { LocalParticipant, type CameraOptions, type MicrophoneOptions, type ScreenShareOptions } from './LocalParticipant.js';
export { LocalTrack, type TrackPublishOptions } from './LocalTrack.js';
export { RemoteParticipant } from './RemoteParticipant.js';
export { RemoteTrack } from './RemoteTrack.js';
export { SdkError, type SdkErrorCode, type ClientErrorCode } from './SdkError.js';
export { TypedEmitter } from './TypedEmitter.js';
export type { TrackStats, MediaPath } from './stats.js';
export { PROTOCOL_VERSION } from './types.js';
export type {
	ErrorCode,
	ProducerInfo,
	Role,
	Source,
	WaitingPeer,
	CloseReason,
	KickReason,
	RoomClosedReason,
	ConsumerType,
	RecordingState,
	RoomType,
	IngestState,
	IngestFailureCode,
	IngestSourceInfo,
	IngestEndpointInfo,
} from './types.js';

/** SDK version. */
export const version = '0.2.0';
