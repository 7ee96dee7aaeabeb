import type { NotificationMap } from './protocol.js';
import { RoomEvent, type RoomEventMap } from './RoomEvent.js';
import type { TypedEmitter } from './TypedEmitter.js';
import type { RecordingState } from './types.js';

const NOT_RECORDING: RecordingState = Object.freeze({ recordingId: '', active: false, consentRequired: false, recordedPeerIds: [] as string[] });

/**
 * The room's recording as the server announces it (`recordingState`), turned
 * into Started / Stopped / StateChanged events. A clinical requirement: while
 * `active`, every participant's UI must show that the session is recorded.
 */
export class RecordingTracker {
	readonly #events: TypedEmitter<RoomEventMap>;
	#state: RecordingState = NOT_RECORDING;

	constructor(events: TypedEmitter<RoomEventMap>) {
		this.#events = events;
	}

	get state(): RecordingState {
		return this.#state;
	}

	/** Applies a `recordingState` notification. */
	update(next: NotificationMap['recordingState']): void {
		const previous = this.#state;
		// The end of an earlier recording arriving after the next one began (a
		// recording moved between server nodes, whose notices travel separately).
		if (!next.active && previous.active && next.recordingId !== previous.recordingId) return;
		const state: RecordingState = { ...next, recordedPeerIds: [...next.recordedPeerIds] };
		this.#state = state;
		if (state.active && (!previous.active || previous.recordingId !== state.recordingId)) {
			this.#events.emit(RoomEvent.RecordingStarted, state);
		} else if (!state.active && (previous.active || state.error)) {
			this.#events.emit(RoomEvent.RecordingStopped, state);
		}
		this.#events.emit(RoomEvent.RecordingStateChanged, state);
	}

	/** The room ended: nothing is recorded any more as far as this participant knows. */
	reset(): void {
		this.#state = NOT_RECORDING;
	}
}
