import type { Recording, RecordingService } from '../recording/index.js';
import type { Peer, RemoteControlAction, Room, RoomControl, RoomRegistry } from '../rooms/index.js';
import type { RequestOutcome, SignalingEvents } from '../protocol/index.js';
import type { AuditParty } from './AuditEntry.js';
import type { AuditLog } from './AuditLog.js';
import type { RefusalRecorder } from './RefusalRecorder.js';
import { currentActor, type Actor } from '../context/index.js';

/**
 * What the trail listens to. Nothing here changes behaviour: rooms,
 * recordings and signaling emit as they always do, and who caused an event
 * comes from the actor scope the request runs in (see actor.ts).
 */

const INGEST_SUB = 'ingest:';

export function partyOf(peer: Peer): AuditParty {
	return { sub: peer.identity.sub, role: peer.role, peerId: peer.id };
}

function party(actor: Actor | undefined): AuditParty | null {
	if (!actor) return null;
	return { sub: actor.sub, role: actor.role, ...(actor.peerId ? { peerId: actor.peerId } : {}) };
}

/**
 * Presence: the waiting room (waiting, admitted, denied), joins and leaves
 * (and, when a room closes with people inside, their leaving with it), kicks,
 * the host ending the room, pulled device sources entering and leaving.
 * Participants of other nodes are that node's to record; an action a host
 * here took on one of them is recorded by auditControl.
 */
export function auditRooms(log: AuditLog, rooms: RoomRegistry): () => void {
	const onOpen = (room: Room): void => {
		const present = new Map<string, AuditParty>();
		room.observer.on('peerwaiting', (peer) => log.record({ type: 'peer.waiting', actor: partyOf(peer), room: room.id }));
		room.observer.on('peerwaitend', (peer, outcome) => {
			if (outcome === 'left') return;
			const by = party(currentActor());
			log.record({ type: outcome === 'admitted' ? 'peer.admitted' : 'peer.denied', actor: by, target: partyOf(peer), room: room.id, ...(by ? {} : { data: { by: 'system' } }) });
		});
		room.observer.on('peerjoined', (peer) => {
			if (peer.remote) return;
			const who = partyOf(peer);
			present.set(peer.id, who);
			if (who.sub.startsWith(INGEST_SUB)) {
				log.record({ type: 'ingest.source_added', actor: party(currentActor()), target: who, room: room.id, data: { ingestId: who.sub.slice(INGEST_SUB.length) } });
			} else {
				log.record({ type: 'peer.joined', actor: who, room: room.id });
			}
		});
		room.observer.on('peerleft', (peer, reason) => {
			if (peer.remote || !present.delete(peer.id)) return;
			const who = partyOf(peer);
			const by = currentActor();
			if (who.sub.startsWith(INGEST_SUB)) {
				log.record({ type: 'ingest.source_removed', actor: party(by), target: who, room: room.id, data: { ingestId: who.sub.slice(INGEST_SUB.length), reason } });
				return;
			}
			if (reason === 'removed' && by && by.sub !== who.sub) log.record({ type: 'peer.kicked', actor: party(by), target: who, room: room.id });
			log.record({ type: 'peer.left', actor: who, room: room.id, data: { reason } });
		});
		room.observer.once('close', (reason) => {
			const by = currentActor();
			if (reason === 'ended_by_host' && by) log.record({ type: 'room.ended', actor: party(by), room: room.id, data: { present: present.size } });
			for (const who of present.values()) {
				if (!who.sub.startsWith(INGEST_SUB)) log.record({ type: 'peer.left', actor: who, room: room.id, data: { reason: 'room_closed', closeReason: reason } });
			}
			present.clear();
		});
	};
	rooms.observer.on('newroom', onOpen);
	for (const room of rooms.rooms()) onOpen(room);
	return () => rooms.observer.off('newroom', onOpen);
}

/** Who started and stopped each recording (null: the system — room closed, disk full, shutdown). */
export function auditRecordings(log: AuditLog, recordings: RecordingService): () => void {
	const onStart = (recording: Recording): void => {
		const continuesFrom = recording.manifest.continuesFrom;
		log.record({
			type: 'recording.started',
			actor: party(currentActor()),
			room: recording.roomId,
			recordingId: recording.id,
			data: { consentRequired: recording.consentRequired, ...(continuesFrom ? { continuesFrom } : {}) },
		});
	};
	const onStop = (recording: Recording): void => {
		const { state, error, entries } = recording.manifest;
		log.record({
			type: 'recording.stopped',
			actor: party(currentActor()),
			room: recording.roomId,
			recordingId: recording.id,
			data: { state, error: error?.code ?? null, segments: entries.filter((e) => e.type === 'segment').length },
		});
	};
	recordings.observer.on('recordingstart', onStart);
	recordings.observer.on('recordingstop', onStop);
	return () => {
		recordings.observer.off('recordingstart', onStart);
		recordings.observer.off('recordingstop', onStop);
	};
}

/**
 * From signaling's request outcomes: consent, push ingest endpoints, and every
 * forbidden request; from its refusals, the handshakes turned away (bad,
 * expired or missing token, connection limits), bounded by `refusals`.
 */
export function auditSignaling(log: AuditLog, refusals: RefusalRecorder, signaling: { readonly observer: SignalingEvents }, recordings: RecordingService | null): () => void {
	const onRequest = (outcome: RequestOutcome): void => {
		const { actor: asker, method, code } = outcome;
		if (!asker) return;
		const actor: AuditParty = { sub: asker.sub, role: asker.role, ...(asker.peerId ? { peerId: asker.peerId } : {}) };
		const room = asker.roomId;
		if (code === 'forbidden') {
			log.record({ type: 'access.forbidden', actor, room, data: { via: 'signaling', method } });
			return;
		}
		if (code?.startsWith('auth_')) {
			log.record({ type: 'access.refused', actor, room, data: { via: 'signaling', method, code } });
			return;
		}
		if (code !== null) return;
		const params = (outcome.params ?? {}) as { consent?: unknown };
		switch (method) {
			case 'setRecordingConsent': {
				const recordingId = recordings?.activeFor(room)?.id;
				log.record({ type: 'recording.consent', actor, room, ...(recordingId ? { recordingId } : {}), data: { consent: params.consent === true } });
				break;
			}
			case 'createIngest':
				log.record({ type: 'ingest.endpoint_opened', actor, room });
				break;
			default:
		}
	};
	const onRefused = (code: string, details?: { room?: string; address?: string }): void => {
		refusals.record({ via: 'signaling', code, address: details?.address ?? null, ...(details?.room ? { room: details.room } : {}) });
	};
	signaling.observer.on('request', onRequest);
	signaling.observer.on('refused', onRefused);
	return () => {
		signaling.observer.off('request', onRequest);
		signaling.observer.off('refused', onRefused);
	};
}

const REMOTE_ACTION_TYPES = { admit: 'peer.admitted', deny: 'peer.denied', remove: 'peer.kicked' } as const;

/**
 * Host actions this node carried to another node (the participant is
 * connected there): recorded here by the acting host, with the node that
 * executed them; that node records them too, on its own trail.
 */
export function auditControl(log: AuditLog, control: { readonly observer: RoomControl['observer'] }): () => void {
	const onAction = (action: RemoteControlAction): void => {
		const target: AuditParty = { sub: action.target.sub, role: action.target.role, peerId: action.target.peerId };
		log.record({ type: REMOTE_ACTION_TYPES[action.action], actor: party(currentActor()), target, room: action.roomId, data: { executedOn: action.executedOn } });
	};
	control.observer.on('remoteaction', onAction);
	return () => control.observer.off('remoteaction', onAction);
}
