import type { NotificationMap } from '../protocol/index.js';

/** What every participant is shown about a room's recording. */
export type RecordingState = NotificationMap['recordingState'];

/**
 * A room's recording across the nodes of a cluster (cluster/ implements it):
 * a room has at most one recording, on the node whose host started it; the
 * other nodes route stop and consent to it, show its state to their
 * participants, and tell them if the recording node dies.
 */
export interface RecordingCluster {
	/** Claims the room's one recording for this node; `invalid_state` when another node records it. */
	claim(roomId: string, recordingId: string): Promise<void>;
	/** A recording of this node changed state: the room's other nodes and late joiners see it. */
	publish(roomId: string, state: RecordingState): void;
	/** A recording of this node ended: the room may be recorded again, by any node. */
	release(roomId: string, recordingId: string): Promise<void>;
	/** The room's recording when another node holds it. */
	remoteState(roomId: string): Promise<{ nodeId: string; state: RecordingState } | null>;
	/** Stops the room's recording on the node that holds it. */
	stop(roomId: string): Promise<{ recordingId: string }>;
	/** A participant's consent, carried to the node that records the room. */
	setConsent(roomId: string, peerId: string, consent: boolean): Promise<void>;
	/** This node is stopping: another node starts a recording continuing this one. */
	continueElsewhere(plan: RecordingHandover): Promise<{ recordingId: string; nodeId: string }>;
}

/** What a recording moving to another node carries. */
export interface RecordingHandover {
	roomId: string;
	requireConsent: boolean;
	/** People (by `sub`) who consented so far. */
	consents: string[];
	/** The recording it continues. */
	continuesFrom: string;
	/** The room's policy, should the other node not host the room yet. */
	policy: { waitingRoom: boolean; type?: 'consult' | 'broadcast' };
}
