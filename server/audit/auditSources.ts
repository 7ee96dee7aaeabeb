import type { Recording, RecordingService } from '../recording/index.js';
import type { Peer, Room, RoomRegistry } from '../rooms/index.js';
import type { RequestOutcome, SignalingEvents } from '../protocol/index.js';
import type { AuditParty } from './AuditEntry.js';
import type { AuditLog } from './AuditLog.js';
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
 * Presence: joins and leaves (and, when a room closes with people inside,
 * their leaving with it), kicks, the host ending the room, pulled device
 * sources entering and leaving. Participants of other nodes are that node's
 * to record.
 */
export function auditRooms(log: AuditLog, rooms: RoomRegistry): () => void {
	const onOpen = (room: Room): void => {
		const present = new Map<string, AuditParty>();
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
		log.record({ type: 'recording.started', actor: party(currentActor()), room: recording.roomId, recordingId: recording.id, data: { consentRequired: recording.consentRequired } });
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

const WAITING_REMEMBERED = 10_000;

/**
 * From signaling's request outcomes: the waiting room (waiting, admitted,
 * denied), consent, push ingest endpoints, and every forbidden request; from
 * its refusals, every handshake turned away (bad, expired or missing token).
 */
export function auditSignaling(log: AuditLog, signaling: { readonly observer: SignalingEvents }, rooms: RoomRegistry, recordings: RecordingService | null): () => void {
	/** Waiting peers by id: a denied one is gone from the room before the outcome arrives. */
	const waiting = new Map<string, AuditParty>();

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
		const params = (outcome.params ?? {}) as { peerId?: unknown; consent?: unknown };
		const targetId = typeof params.peerId === 'string' ? params.peerId : undefined;
		switch (method) {
			case 'join': {
				const peer = asker.peerId ? rooms.get(room)?.peers().find((p) => p.id === asker.peerId) : undefined;
				if (peer?.state === 'waiting' && !waiting.has(peer.id)) {
					waiting.set(peer.id, partyOf(peer));
					if (waiting.size > WAITING_REMEMBERED) waiting.delete(waiting.keys().next().value!);
					log.record({ type: 'peer.waiting', actor, room });
				} else if (peer) {
					waiting.delete(peer.id);
				}
				break;
			}
			case 'admit':
			case 'deny': {
				const peer = targetId ? rooms.get(room)?.peers().find((p) => p.id === targetId) : undefined;
				const target = peer ? partyOf(peer) : targetId ? (waiting.get(targetId) ?? { sub: 'unknown', role: 'unknown', peerId: targetId }) : undefined;
				if (method === 'deny' && targetId) waiting.delete(targetId);
				log.record({ type: method === 'admit' ? 'peer.admitted' : 'peer.denied', actor, ...(target ? { target } : {}), room });
				break;
			}
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
		log.record({ type: 'access.refused', actor: null, ...(details?.room ? { room: details.room } : {}), data: { via: 'signaling', code, address: details?.address ?? null } });
	};
	signaling.observer.on('request', onRequest);
	signaling.observer.on('refused', onRefused);
	return () => {
		signaling.observer.off('request', onRequest);
		signaling.observer.off('refused', onRefused);
	};
}
