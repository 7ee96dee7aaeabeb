import { EventEmitter } from 'node:events';
import type { types } from 'mediasoup';
import { SfuError, type CloseReason, type JoinResponse, type NotificationMap, type NotificationName, type RoomInfo, type Source } from '../protocol/index.js';
import { PeerMedia, RoomMedia, type PeerConsumer, type PeerMediaOptions, type PeerProducer, type RoomMediaOptions, type WorkerPool } from '../media/index.js';
import type { Logger } from '../logger/index.js';
import { Audience } from './Audience.js';
import { joinedResponse, waitingResponse } from './joinResponse.js';
import { Peer, producerInfo, type PeerChannel, type PeerIdentity } from './Peer.js';
import { PeerMirrors } from './PeerMirrors.js';
import type { RoomAdmissions } from './RoomAdmissions.js';
import { WaitingRoom } from './WaitingRoom.js';

export interface RoomPolicy {
	/** Patients wait for a host to admit them. */
	waitingRoom: boolean;
	/** 'broadcast': grand rounds, where hundreds of viewers must not cause notification storms. Default 'consult'. */
	type?: 'consult' | 'broadcast';
}

export interface RoomOptions {
	media: RoomMediaOptions;
	peerMedia: PeerMediaOptions;
	maxPeers: number;
	/** Rooms one node hosts at once (checked by the registry). Default: unlimited. */
	maxRooms?: number;
	peerGracePeriodMs: number;
	emptyRoomTimeoutMs: number;
}

/** Why a room closes; `media_failure` (its worker died) is not announced: clients just reconnect. */
export type RoomCloseReason = NotificationMap['roomClosed']['reason'] | 'media_failure';

/** Events for the room's owner (the registry). */
export type RoomEvents = {
	close: [reason: RoomCloseReason];
};

/** Events for whoever follows the room without owning it: recordings, the cluster, audit, metrics. */
export type RoomObserverEvents = {
	/** The room is about to close: its peers are still connected and can be told why. */
	closing: [reason: RoomCloseReason];
	close: [reason: RoomCloseReason];
	/** A local peer was parked in the waiting room. */
	peerwaiting: [peer: Peer];
	/** A local waiting peer stopped waiting: admitted (it joins next), turned away, or gone. */
	peerwaitend: [peer: Peer, outcome: 'admitted' | 'denied' | 'left'];
	/** A participant of another node appeared or changed (its producers, paused or not). */
	mirrorupdate: [peer: Peer];
	/** A peer entered (admitted); recorders and metrics follow these. */
	peerjoined: [peer: Peer];
	/** A peer came back within its grace period (it may have missed notifications). */
	peerresumed: [peer: Peer];
	peerleft: [peer: Peer, reason: CloseReason];
	producernew: [peer: Peer, producer: PeerProducer];
	producerclose: [peer: Peer, producer: PeerProducer];
	producerpause: [peer: Peer, producer: PeerProducer];
	producerresume: [peer: Peer, producer: PeerProducer];
};

/** How a room reaches the other nodes hosting it (the cluster implements it). */
export interface RoomLink {
	/** Pipes a remote peer's producer to this node; resolves with the local pipe producer. */
	pipeIn(room: Room, owner: Peer, producerId: string): Promise<PeerProducer>;
	/** A local consumer of a piped producer opened: pipes close when their last consumer does. */
	consumerOpened(producerId: string, consumer: { readonly observer: { once(event: 'close', listener: () => void): unknown } }): void;
	/** Sends a notification to the room's participants on every other node. */
	broadcast<N extends NotificationName>(room: Room, name: N, data: NotificationMap[N]): void;
}

export interface JoinRequest {
	rtpCapabilities?: types.RtpCapabilities;
	resume?: { transportIds: string[] };
}

/**
 * A consult room: who is in it, who waits, and the notifications membership
 * and media changes cause. Knows nothing of sockets: peers are reached
 * through their PeerChannel. The waiting room, a broadcast's audience and the
 * mirrors of other nodes' participants are its parts.
 */
export class Room extends EventEmitter<RoomEvents> {
	readonly id: string;
	readonly policy: RoomPolicy;
	/** For monitors (recordings, cluster roster, audit, metrics); nobody's behaviour here depends on them. */
	readonly observer = new EventEmitter<RoomObserverEvents>();
	/** Participants connected to other nodes of the cluster. */
	readonly mirrors: PeerMirrors;
	/** Set by the cluster: reaches the room's other nodes (remote media, room-wide notifications). */
	link: RoomLink | null = null;
	readonly #media: RoomMedia;
	readonly #options: RoomOptions;
	readonly #logger: Logger;
	readonly #admissions: RoomAdmissions;
	readonly #peers = new Map<string, Peer>();
	readonly #waitingRoom: WaitingRoom;
	readonly #audience: Audience;
	#emptyTimer: NodeJS.Timeout | null = null;
	/** The waiting peer a host is turning away right now (its leaving is a denial). */
	#denying: Peer | null = null;
	#draining = false;
	#closed = false;

	static async create(id: string, policy: RoomPolicy, deps: { pool: WorkerPool; admissions: RoomAdmissions }, options: RoomOptions, logger: Logger): Promise<Room> {
		const media = await RoomMedia.create(deps.pool, options.media, logger);
		return new Room(id, policy, media, deps.admissions, options, logger);
	}

	private constructor(id: string, policy: RoomPolicy, media: RoomMedia, admissions: RoomAdmissions, options: RoomOptions, logger: Logger) {
		super();
		this.id = id;
		this.policy = policy;
		this.#media = media;
		this.#admissions = admissions;
		this.#options = options;
		this.#logger = logger;
		this.#waitingRoom = new WaitingRoom(id, policy.waitingRoom, admissions);
		this.#audience = new Audience(
			policy.type === 'broadcast',
			() => this.peers().filter((p) => this.#audience.isSilent(p) && p.state !== 'closed').length,
			(viewers) => {
				for (const peer of this.#peers.values()) if (!this.#audience.isSilent(peer) && peer.hasMedia) peer.notify('audience', { viewers });
			},
		);
		this.mirrors = new PeerMirrors({
			get: (peerId) => this.#peers.get(peerId),
			add: (peer) => this.#addMirror(peer),
			createMedia: async (peer) => new PeerMedia(peer.id, this.#media, await this.#media.routerForNewPeer(), this.#options.peerMedia, this.#logger.child({ peerId: peer.id })),
			broadcast: (name, data, except) => this.#broadcast(name, data, except),
			waitingChanged: () => this.#sendWaitingList(),
			updated: (peer) => this.observer.emit('mirrorupdate', peer),
			remove: (peer, reason) => this.remove(peer, reason),
		});
		media.on('dominantspeaker', (producerId) => {
			const owner = this.#producerOwner(producerId);
			if (owner) this.#broadcast('activeSpeaker', { peerId: owner.id });
		});
		// A worker died under the room: drop every connection without "room
		// closed", so clients reconnect, rejoin a rebuilt room on live workers
		// and republish by themselves.
		media.on('routerlost', () => this.close('media_failure'));
	}

	get closed(): boolean {
		return this.#closed;
	}

	get media(): RoomMedia {
		return this.#media;
	}

	get info(): RoomInfo {
		return { id: this.id, waitingRoom: this.policy.waitingRoom, type: this.policy.type ?? 'consult' };
	}

	peers(): Peer[] {
		return [...this.#peers.values()];
	}

	/** Local peers (not mirrored from other nodes). */
	localPeers(): Peer[] {
		return this.peers().filter((p) => !p.remote);
	}

	peer(peerId: string): Peer {
		const peer = this.#peers.get(peerId);
		if (!peer) throw new SfuError('not_found', 'no such peer in this room');
		return peer;
	}

	/**
	 * Enters the room, resumes a peer kept through a disconnect (same `sub`),
	 * or parks a patient in the waiting room.
	 */
	async join(identity: PeerIdentity, channel: PeerChannel, request: JoinRequest): Promise<{ peer: Peer; response: JoinResponse }> {
		if (this.#closed) throw new SfuError('room_closed', 'the room has closed');
		if (await this.#admissions.isBanned(this.id, identity.sub)) throw new SfuError('removed', 'the host removed you from this room');
		if (this.#closed) throw new SfuError('room_closed', 'the room has closed');
		this.#cancelEmptyTimer();
		// A participant mirrored from another node is another connection of the same
		// person: this node hosts the one joining here, the cluster retires the other.
		let peer = this.peers().find((p) => p.identity.sub === identity.sub && p.state !== 'closed' && !p.remote);
		if (peer) {
			peer.attachChannel(channel);
			if (request.rtpCapabilities) peer.rtpCapabilities = request.rtpCapabilities;
			if (peer.state === 'waiting' && !this.#waitingRoom.isAdmitted(peer)) return { peer, response: waitingResponse(this.info, peer) };
			if (peer.hasMedia) {
				peer.media.keepTransports(request.resume?.transportIds ?? []);
				this.#logger.info({ peerId: peer.id }, 'peer resumed');
				// A host may have missed waiting-room changes while away; anyone may
				// have missed a recording starting.
				if (peer.role === 'host') setImmediate(() => this.#sendWaitingList());
				const resumedPeer = peer;
				setImmediate(() => this.observer.emit('peerresumed', resumedPeer));
				return { peer, response: this.#joinedResponse(peer, true) };
			}
		} else {
			if (this.#peers.size >= this.#options.maxPeers) throw new SfuError('room_full', 'the room is full');
			const waits = await this.#waitingRoom.mustWait(identity.role, identity.sub);
			if (this.#closed) throw new SfuError('room_closed', 'the room has closed');
			peer = new Peer(identity, channel, waits ? 'waiting' : 'joined');
			if (request.rtpCapabilities) peer.rtpCapabilities = request.rtpCapabilities;
			this.#peers.set(peer.id, peer);
			if (waits) {
				this.#logger.info({ peerId: peer.id, role: identity.role }, 'peer waiting for admission');
				this.#sendWaitingList();
				this.observer.emit('peerwaiting', peer);
				return { peer, response: waitingResponse(this.info, peer) };
			}
		}
		await this.#activate(peer);
		return { peer, response: this.#joinedResponse(peer, false) };
	}

	/**
	 * Looks a producer up across the room (and the cluster) and consumes it for
	 * `peer`; a remote peer's producer is piped here first.
	 */
	async consume(peer: Peer, producerId: string): Promise<PeerConsumer> {
		const owner = this.#producerOwner(producerId);
		if (!owner) throw new SfuError('not_found', 'no such producer in this room');
		let producer = owner.media.producers.get(producerId);
		if (!producer && owner.remote) producer = await this.pipeIn(owner, producerId);
		if (!producer) throw new SfuError('not_found', 'no such producer in this room');
		const consumer = await peer.consume(producer, owner.media.home.router);
		if (owner.remote) this.link?.consumerOpened(producerId, consumer);
		return consumer;
	}

	/** A mirrored participant's producer, piped to this node (once; shared by every local consumer). */
	pipeIn(owner: Peer, producerId: string): Promise<PeerProducer> {
		if (!this.link) return Promise.reject(new SfuError('unavailable', 'that participant is on another node and the cluster link is down'));
		return this.link.pipeIn(this, owner, producerId);
	}

	/**
	 * The peer's socket dropped: keep it for the grace period, then remove it.
	 * On a draining node nobody comes back here: it is removed at once.
	 */
	disconnect(peer: Peer, channel: PeerChannel): void {
		if (!this.#peers.has(peer.id) || !peer.notifiesThrough(channel)) return;
		if (peer.state === 'waiting' || this.#options.peerGracePeriodMs === 0 || this.#draining) {
			this.remove(peer, 'disconnected');
			return;
		}
		peer.detachChannel();
		this.#logger.info({ peerId: peer.id, graceMs: this.#options.peerGracePeriodMs }, 'peer disconnected; keeping it for the grace period');
		peer.graceTimer = setTimeout(() => this.remove(peer, 'disconnected'), this.#options.peerGracePeriodMs);
	}

	/** Removes a peer now, telling the others. */
	remove(peer: Peer, reason: CloseReason): void {
		if (!this.#peers.delete(peer.id)) return;
		const wasWaiting = peer.state === 'waiting';
		const wasAdmitted = this.#waitingRoom.isAdmitted(peer);
		this.#waitingRoom.settled(peer);
		peer.close();
		this.#logger.info({ peerId: peer.id, reason }, 'peer left');
		if (wasWaiting) {
			this.#sendWaitingList();
			if (!peer.remote && !wasAdmitted) this.observer.emit('peerwaitend', peer, this.#denying === peer ? 'denied' : 'left');
		} else {
			if (this.#audience.isSilent(peer)) this.#audience.changed();
			else this.#broadcast('peerLeft', { peerId: peer.id, reason });
			this.observer.emit('peerleft', peer, reason);
		}
		// Mirrors of other nodes' participants do not keep this node's room open.
		if (this.localPeers().length === 0) this.#scheduleEmptyClose();
	}

	/**
	 * Lets a waiting peer of this node in (remembered for the room's life, on
	 * every node); it joins for real on its next `join`.
	 */
	async admit(peerId: string): Promise<void> {
		const peer = this.#localPeer(peerId);
		if (peer.state !== 'waiting' || this.#waitingRoom.isAdmitted(peer)) throw new SfuError('invalid_state', 'that peer is not waiting');
		await this.#waitingRoom.admit(peer);
		if (peer.state !== 'waiting') throw new SfuError('not_found', 'that peer left while being admitted');
		peer.notify('admitted', {});
		this.#sendWaitingList();
		this.observer.emit('peerwaitend', peer, 'admitted');
	}

	/** Turns a waiting peer of this node away (it may knock again). */
	deny(peerId: string): void {
		const peer = this.#localPeer(peerId);
		if (peer.state !== 'waiting') throw new SfuError('invalid_state', 'that peer is not waiting');
		peer.notify('denied', {});
		this.#denying = peer;
		try {
			this.remove(peer, 'removed');
		} finally {
			this.#denying = null;
		}
	}

	/**
	 * Pauses a participant's producers of `source` (this node's) and tells it,
	 * so its client shows it was muted by the host. The participant may unmute
	 * itself: clinical etiquette, not enforcement.
	 */
	async mute(peerId: string, source: Source): Promise<string[]> {
		const target = this.#localPeer(peerId);
		if (!target.hasMedia) throw new SfuError('invalid_state', 'that peer has not joined');
		const muted: string[] = [];
		for (const producer of [...target.media.producers.values()]) {
			if (producer.appData.source !== source || producer.paused) continue;
			await target.pauseProducer(producer.id);
			target.notify('mutedByHost', { producerId: producer.id, source });
			muted.push(producer.id);
		}
		return muted;
	}

	/**
	 * The host removes a participant of this node: told `kicked`, and banned
	 * from the room for its life, on every node, whatever its role.
	 */
	async expel(peerId: string): Promise<void> {
		const peer = this.#localPeer(peerId);
		await this.#admissions.ban(this.id, peer.identity.sub);
		peer.notify('kicked', { reason: 'removed' });
		this.remove(peer, 'removed');
	}

	/** Sends to every admitted peer of the room, on every node. */
	broadcastEverywhere<N extends NotificationName>(name: N, data: NotificationMap[N]): void {
		this.#broadcast(name, data);
		this.link?.broadcast(this, name, data);
	}

	/** Peers waiting for admission (admitted ones excluded). */
	waitingPeers(): Peer[] {
		return this.#waitingRoom.waiting(this.#peers.values());
	}

	/** Sends to every admitted peer except `except`. */
	broadcast<N extends NotificationName>(name: N, data: NotificationMap[N], except?: Peer): void {
		this.#broadcast(name, data, except);
	}

	/**
	 * This node is shutting down while the room goes on elsewhere: its clients
	 * reconnect to other nodes, so those whose connection dropped are removed
	 * now rather than after the grace period (other nodes see them leave).
	 */
	drain(): void {
		this.#draining = true;
		for (const peer of this.localPeers()) if (peer.state === 'disconnected') this.remove(peer, 'disconnected');
	}

	/** Closes every peer and the room's media. Idempotent. */
	close(reason: RoomCloseReason): void {
		if (this.#closed) return;
		this.observer.emit('closing', reason);
		this.#closed = true;
		this.#cancelEmptyTimer();
		this.#audience.close();
		for (const peer of this.#peers.values()) {
			if (reason !== 'media_failure') peer.notify('roomClosed', { reason });
			peer.close({ reconnect: reason === 'media_failure' });
		}
		this.#peers.clear();
		this.#waitingRoom.clear();
		this.#admissions.forget(this.id);
		this.#media.close();
		this.#logger.info({ reason }, 'room closed');
		this.emit('close', reason);
		this.observer.emit('close', reason);
	}

	async #activate(peer: Peer): Promise<void> {
		const router = await this.#media.routerForNewPeer();
		const peerMedia = this.policy.type === 'broadcast' ? { ...this.#options.peerMedia, keyFrameRequestDelayMs: 500 } : this.#options.peerMedia;
		const media = new PeerMedia(peer.id, this.#media, router, peerMedia, this.#logger.child({ peerId: peer.id }));
		peer.attachMedia(media);
		this.#waitingRoom.settled(peer);
		this.#wirePeer(peer, media);
		if (this.#audience.isSilent(peer)) this.#audience.changed();
		else this.#broadcast('peerJoined', { peer: peer.info() }, peer);
		this.observer.emit('peerjoined', peer);
		if (peer.role === 'host') this.#sendWaitingList();
		this.#logger.info({ peerId: peer.id, role: peer.role, routerId: router.router.id }, 'peer joined');
	}

	#addMirror(peer: Peer): void {
		if (this.#closed) {
			peer.close();
			return;
		}
		this.#peers.set(peer.id, peer);
		this.#cancelEmptyTimer();
	}

	#wirePeer(peer: Peer, media: PeerMedia): void {
		const others = (producer: PeerProducer) => ({ producerId: producer.id, peerId: producer.appData.peerId });
		peer.on('producernew', (producer) => {
			this.#broadcast('producerNew', { producer: producerInfo(producer) }, peer);
			this.observer.emit('producernew', peer, producer);
		});
		peer.on('producerclose', (producer) => {
			this.#broadcast('producerClosed', others(producer), peer);
			this.observer.emit('producerclose', peer, producer);
		});
		peer.on('producerpause', (producer) => {
			this.#broadcast('producerPaused', others(producer), peer);
			this.observer.emit('producerpause', peer, producer);
		});
		peer.on('producerresume', (producer) => {
			this.#broadcast('producerResumed', others(producer), peer);
			this.observer.emit('producerresume', peer, producer);
		});
		media.on('consumerclose', (consumer) => peer.notify('consumerClosed', { consumerId: consumer.id, producerId: consumer.producerId }));
		media.on('consumerpause', (consumer) => peer.notify('consumerPaused', { consumerId: consumer.id }));
		media.on('consumerresume', (consumer) => peer.notify('consumerResumed', { consumerId: consumer.id }));
		media.on('consumerscore', (consumer, score) => peer.notify('consumerScore', { consumerId: consumer.id, score: score.score, producerScore: score.producerScore }));
		media.on('consumerlayerschange', (consumer, layers) =>
			peer.notify('consumerLayersChanged', {
				consumerId: consumer.id,
				spatialLayer: layers?.spatialLayer ?? null,
				temporalLayer: layers?.temporalLayer ?? null,
			}),
		);
	}

	#joinedResponse(peer: Peer, resumed: boolean): JoinResponse {
		return joinedResponse({
			room: this.info,
			peer,
			others: this.peers().filter((p) => p !== peer && p.hasMedia && p.state !== 'closed' && !this.#audience.isSilent(p)),
			routerRtpCapabilities: this.#media.routerRtpCapabilities,
			resumed,
		});
	}

	/** A peer connected to this node (a mirror's node acts on it, not this one). */
	#localPeer(peerId: string): Peer {
		const peer = this.peer(peerId);
		if (peer.remote) throw new SfuError('unavailable', 'that participant is connected to another node');
		return peer;
	}

	#producerOwner(producerId: string): Peer | undefined {
		for (const peer of this.#peers.values()) {
			if (peer.hasMedia && (peer.media.producers.has(producerId) || peer.remoteProducers.has(producerId))) return peer;
		}
		return undefined;
	}

	#broadcast<N extends NotificationName>(name: N, data: NotificationMap[N], except?: Peer): void {
		for (const peer of this.#peers.values()) {
			if (peer !== except && peer.hasMedia) peer.notify(name, data);
		}
	}

	#sendWaitingList(): void {
		const waiting = this.waitingPeers().map((p) => ({ id: p.id, role: p.role, displayName: p.identity.displayName }));
		for (const peer of this.#peers.values()) {
			if (peer.role === 'host' && peer.hasMedia) peer.notify('waitingRoom', { peers: waiting });
		}
	}

	#scheduleEmptyClose(): void {
		this.#cancelEmptyTimer();
		this.#emptyTimer = setTimeout(() => this.close('closed'), this.#options.emptyRoomTimeoutMs);
	}

	#cancelEmptyTimer(): void {
		if (this.#emptyTimer) clearTimeout(this.#emptyTimer);
		this.#emptyTimer = null;
	}
}

