/** Notifications (server → client, not acknowledged) of protocol v1. */
import type { PeerInfo, ProducerInfo } from './responses.js';
import type { CloseReason, IngestFailureCode, IngestState, Role, Source } from './vocabulary.js';

export interface NotificationMap {
	peerJoined: { peer: PeerInfo };
	peerLeft: { peerId: string; reason: CloseReason };
	producerNew: { producer: ProducerInfo };
	producerClosed: { producerId: string; peerId: string };
	producerPaused: { producerId: string; peerId: string };
	producerResumed: { producerId: string; peerId: string };
	/** Sent to the owner when the host muted one of its producers. */
	mutedByHost: { producerId: string; source: Source };
	consumerClosed: { consumerId: string; producerId: string };
	/** The producer behind the consumer was paused / resumed. */
	consumerPaused: { consumerId: string };
	consumerResumed: { consumerId: string };
	consumerLayersChanged: { consumerId: string; spatialLayer: number | null; temporalLayer: number | null };
	activeSpeaker: { peerId: string | null };
	/** To hosts: the peers currently waiting for admission. */
	waitingRoom: { peers: { id: string; role: Role; displayName: string }[] };
	/** Broadcast rooms, to presenters: how many viewers watch (sent at most every 2 s). */
	audience: { viewers: number };
	/** To a waiting peer: you may now `join` again. */
	admitted: Record<string, never>;
	/** To a waiting peer: the host declined; the socket is closed after this. */
	denied: Record<string, never>;
	kicked: { reason: 'removed' | 'expired' };
	/**
	 * To everyone: recording started, stopped or failed. While `active`, every
	 * participant must be shown that the session is recorded.
	 */
	recordingState: {
		recordingId: string;
		active: boolean;
		/** When set, only consenting participants are recorded; others are asked. */
		consentRequired: boolean;
		/** Peer ids whose tracks are being recorded now. */
		recordedPeerIds: string[];
		/** Why it stopped, when it did not stop by request: e.g. 'disk_full', 'recorder_failed'. */
		error?: { code: string; message: string };
	};
	roomClosed: { reason: 'ended_by_host' | 'server_shutdown' | 'closed' };
	/**
	 * To everyone connected to a node that is shutting down (a rolling update):
	 * reconnect now through the signaling address. The session continues on
	 * another node (a fresh join: admitted patients are not parked again); the
	 * socket is dropped shortly after.
	 */
	serverDraining: Record<string, never>;
	/** To everyone: a pulled device source changed state. */
	ingestState: {
		ingestId: string;
		/** The server-side participant that carries the source's producers. */
		peerId: string;
		name: string;
		state: IngestState;
		/** Why it is retrying or failed: a stable code, and a generic sentence for people. */
		code?: IngestFailureCode;
		reason?: string;
		/** Retry number and when the next try happens (ms from now). */
		attempt?: number;
		retryInMs?: number;
	};
	/**
	 * To a viewer: the quality of one consumer (0..10). A device stream is
	 * never downscaled; a low score on it means this viewer's link cannot carry it.
	 */
	consumerScore: { consumerId: string; score: number; producerScore: number };
}
export type NotificationName = keyof NotificationMap;
