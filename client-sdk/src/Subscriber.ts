import type { CloseReason, NotificationMap, PeerInfo, ProducerInfo } from './protocol.js';
import { RemoteParticipant } from './RemoteParticipant.js';
import { RemoteTrack, type RemoteTrackContext } from './RemoteTrack.js';
import type { RtcEngine } from './RtcEngine.js';
import { RoomEvent, type RoomEventMap, type TrackStreamState } from './RoomEvent.js';
import { SdkError } from './SdkError.js';
import type { SignalClient } from './SignalClient.js';
import type { TypedEmitter } from './TypedEmitter.js';

/** @internal What the subscriber needs from its room. */
export interface SubscriberContext {
	readonly engine: RtcEngine;
	readonly signal: SignalClient;
	readonly events: TypedEmitter<RoomEventMap>;
	/** Subscribe to every published track by itself. */
	readonly autoSubscribe: boolean;
	/** Size received videos to their elements and pause invisible ones. */
	readonly adaptiveStream: boolean;
	/** Speaker chosen by the application, if any. */
	readonly audioOutput: string | undefined;
	/** Audio-only mode: received camera videos start (and stay) paused. */
	audioOnly(): boolean;
	onPlaybackBlocked(element: HTMLMediaElement): void;
}

/** Errors that say "try again after the reconnect", not "this track is broken". */
const TRANSIENT = new Set(['disconnected', 'closed', 'request_timeout', 'not_found', 'not_joined']);

/**
 * The remote side of a room: the other participants, what they publish,
 * and the tracks received from them. Applies the server's peer, producer
 * and consumer notifications, and reconciles with a join answer after a
 * reconnect.
 */
export class Subscriber {
	/** Remote participants by peer id. */
	readonly participants = new Map<string, RemoteParticipant>();

	readonly #context: SubscriberContext;
	readonly #pending = new Map<string, Promise<RemoteTrack>>();
	/** Consumes started before the last `dropTracks`, until they settle. */
	readonly #stale = new Map<string, Promise<RemoteTrack>>();
	/** consumerClosed notifications that arrived before their consumer was ready. */
	readonly #closedEarly = new Set<string>();
	#ready: Promise<void> = new Promise(() => undefined);
	#generation = 0;
	#canConsume = true;
	readonly #trackContext: RemoteTrackContext;

	constructor(context: SubscriberContext) {
		this.#context = context;
		this.#trackContext = {
			signal: context.signal,
			adaptiveStream: context.adaptiveStream,
			get audioOutput() {
				return context.audioOutput;
			},
			onPlaybackBlocked: (el) => context.onPlaybackBlocked(el),
			onStreamStateChanged: (track: RemoteTrack, state: TrackStreamState) => {
				const participant = this.participants.get(track.participantId);
				if (participant?.tracks.get(track.producerId) === track) context.events.emit(RoomEvent.TrackStreamStateChanged, track, state, participant);
			},
		};
		const { signal } = context;
		signal.onNotification('peerJoined', (d) => this.#onPeerJoined(d.peer));
		signal.onNotification('peerLeft', (d) => this.#onPeerLeft(d.peerId, d.reason));
		signal.onNotification('producerNew', (d) => this.#onProducerNew(d.producer));
		signal.onNotification('producerClosed', (d) => this.#onProducerClosed(d.producerId, d.peerId));
		signal.onNotification('producerPaused', (d) => this.#onProducerPaused(d.producerId, d.peerId, true));
		signal.onNotification('producerResumed', (d) => this.#onProducerPaused(d.producerId, d.peerId, false));
		signal.onNotification('consumerClosed', (d) => this.#onConsumerClosed(d));
		signal.onNotification('consumerPaused', (d) => this.#onConsumerPaused(d.consumerId, true));
		signal.onNotification('consumerResumed', (d) => this.#onConsumerPaused(d.consumerId, false));
		signal.onNotification('consumerLayersChanged', (d) => this.#onLayersChanged(d));
	}

	/**
	 * Starts a media session: consumes wait for `ready` (device loaded,
	 * capabilities sent). `canConsume` is false for roles that only publish.
	 */
	startSession(ready: Promise<void>, canConsume: boolean): void {
		this.#ready = ready;
		this.#canConsume = canConsume;
		// A rejected gate is reported by whoever awaits it; never unhandled here.
		ready.catch(() => undefined);
	}

	/**
	 * Brings the roster in line with a join answer's `peers`. The first join
	 * fills it silently; later ones (reconnects) fire joined/left/published
	 * events for what changed during the drop.
	 */
	reconcile(peers: PeerInfo[], initial: boolean): void {
		const listed = new Map(peers.map((p) => [p.id, p]));
		for (const participant of [...this.participants.values()]) {
			if (!listed.has(participant.id)) this.#removeParticipant(participant, 'disconnected');
		}
		for (const info of peers) {
			const participant = this.participants.get(info.id);
			if (!participant) {
				const created = new RemoteParticipant(info);
				this.participants.set(info.id, created);
				if (!initial) this.#context.events.emit(RoomEvent.ParticipantJoined, created);
				for (const producer of created.producers.values()) {
					if (!initial) this.#context.events.emit(RoomEvent.TrackPublished, producer, created);
					this.#autoSubscribe(producer.id);
				}
				continue;
			}
			const current = new Map(info.producers.map((p) => [p.id, p]));
			for (const producer of [...participant.producers.values()]) {
				if (!current.has(producer.id)) this.#removeProducer(participant, producer.id);
			}
			for (const producer of current.values()) {
				const known = participant.producers.get(producer.id);
				if (!known) {
					participant.producers.set(producer.id, { ...producer });
					this.#context.events.emit(RoomEvent.TrackPublished, producer, participant);
				} else if (known.paused !== producer.paused) {
					this.#onProducerPaused(producer.id, participant.id, producer.paused);
				}
				if (!participant.tracks.has(producer.id)) this.#autoSubscribe(producer.id);
			}
		}
	}

	/**
	 * Drops every received track (their transport is gone); a following
	 * `reconcile` subscribes again. Participants stay.
	 */
	dropTracks(): void {
		this.#generation++;
		for (const [producerId, pending] of this.#pending) this.#stale.set(producerId, pending);
		this.#pending.clear();
		this.#closedEarly.clear();
		for (const participant of this.participants.values()) {
			for (const track of [...participant.tracks.values()]) this.#removeTrack(participant, track);
		}
	}

	/** Receives the track of `producerId` (once; concurrent calls share the result). */
	subscribe(producerId: string): Promise<RemoteTrack> {
		for (const participant of this.participants.values()) {
			const track = participant.tracks.get(producerId);
			if (track) return Promise.resolve(track);
		}
		let pending = this.#pending.get(producerId);
		if (!pending) {
			const generation = this.#generation;
			// A consume of the same producer from a dropped session may still be in
			// flight: the server refuses a second consumer until that one is closed.
			const earlier = this.#stale.get(producerId)?.catch(() => undefined);
			pending = (earlier ?? Promise.resolve()).then(() => this.#consume(producerId, generation));
			const settled: Promise<RemoteTrack> = pending.finally(() => {
				if (this.#pending.get(producerId) === settled) this.#pending.delete(producerId);
				if (this.#stale.get(producerId) === settled) this.#stale.delete(producerId);
			});
			pending = settled;
			this.#pending.set(producerId, pending);
		}
		return pending;
	}

	/** Stops receiving the track of `producerId`. */
	async unsubscribe(producerId: string): Promise<void> {
		for (const participant of this.participants.values()) {
			const track = participant.tracks.get(producerId);
			if (!track) continue;
			this.#removeTrack(participant, track);
			if (this.#context.signal.connected) {
				await this.#context.signal.request('closeConsumer', { consumerId: track.consumerId }).catch(() => undefined);
			}
		}
	}

	/** Audio-only mode on or off for every received track. */
	setAudioOnly(on: boolean): void {
		for (const [track] of this.tracks()) track.setAudioOnly(on);
	}

	/** Every received track with its participant. */
	*tracks(): Generator<[RemoteTrack, RemoteParticipant]> {
		for (const participant of this.participants.values()) {
			for (const track of participant.tracks.values()) yield [track, participant];
		}
	}

	/** Closes every track and forgets every participant, without events. */
	close(): void {
		this.#generation++;
		for (const [track] of this.tracks()) track.close();
		this.participants.clear();
		this.#pending.clear();
		this.#stale.clear();
	}

	async #consume(producerId: string, generation: number): Promise<RemoteTrack> {
		const { signal, engine, events } = this.#context;
		await this.#ready;
		if (!this.#canConsume) throw new SdkError('forbidden', 'this role does not receive media');
		// The server consumes on this peer's recv transport: it must exist first.
		await engine.ensureTransport('recv');
		const answer = await signal.request('consume', { producerId });
		const consumer = await engine.consume(answer).catch(async (error: unknown) => {
			await signal.request('closeConsumer', { consumerId: answer.id }).catch(() => undefined);
			throw error;
		});
		const participant = this.participants.get(answer.peerId);
		const stale = generation !== this.#generation || !participant?.producers.has(producerId) || this.#closedEarly.delete(answer.id);
		if (stale || !participant) {
			consumer.close();
			await signal.request('closeConsumer', { consumerId: answer.id }).catch(() => undefined);
			throw new SdkError('not_found', `producer ${producerId} went away while subscribing`);
		}
		const track = new RemoteTrack(answer, consumer, this.#trackContext);
		participant.tracks.set(producerId, track);
		try {
			// The participant's chosen quality applies before the first frame.
			if (track.kind === 'video' && participant.videoQuality !== 'auto') await track.setVideoQuality(participant.videoQuality).catch(() => undefined);
			// Consumers start paused server-side, so no packet arrives before the
			// local consumer exists and no key frame is wasted.
			await signal.request('resumeConsumer', { consumerId: answer.id });
			if (this.#context.audioOnly()) track.setAudioOnly(true);
		} catch (error) {
			if (participant.tracks.get(producerId) === track) participant.tracks.delete(producerId);
			track.close();
			throw error;
		}
		if (participant.tracks.get(producerId) !== track) throw new SdkError('not_found', `consumer ${answer.id} closed while subscribing`);
		events.emit(RoomEvent.TrackSubscribed, track, participant);
		return track;
	}

	#autoSubscribe(producerId: string): void {
		if (!this.#context.autoSubscribe || !this.#canConsume) return;
		this.subscribe(producerId).catch((error: unknown) => {
			const sdkError = SdkError.from(error);
			if (TRANSIENT.has(sdkError.code)) return;
			this.#context.events.emit(RoomEvent.TrackSubscriptionFailed, producerId, sdkError);
		});
	}

	#onPeerJoined(info: PeerInfo): void {
		if (this.participants.has(info.id)) {
			// The same peer again (it rejoined after its grace period): refresh it.
			this.reconcile([...[...this.participants.values()].filter((p) => p.id !== info.id).map(toPeerInfo), info], false);
			return;
		}
		const participant = new RemoteParticipant(info);
		this.participants.set(info.id, participant);
		this.#context.events.emit(RoomEvent.ParticipantJoined, participant);
		for (const producer of participant.producers.values()) {
			this.#context.events.emit(RoomEvent.TrackPublished, producer, participant);
			this.#autoSubscribe(producer.id);
		}
	}

	#onPeerLeft(peerId: string, reason: CloseReason): void {
		const participant = this.participants.get(peerId);
		if (participant) this.#removeParticipant(participant, reason);
	}

	#onProducerNew(producer: ProducerInfo): void {
		const participant = this.participants.get(producer.peerId);
		if (!participant || participant.producers.has(producer.id)) return;
		participant.producers.set(producer.id, { ...producer });
		this.#context.events.emit(RoomEvent.TrackPublished, producer, participant);
		this.#autoSubscribe(producer.id);
	}

	#onProducerClosed(producerId: string, peerId: string): void {
		const participant = this.participants.get(peerId);
		if (participant) this.#removeProducer(participant, producerId);
	}

	#onProducerPaused(producerId: string, peerId: string, paused: boolean): void {
		const participant = this.participants.get(peerId);
		const info = participant?.producers.get(producerId);
		if (!participant || !info) return;
		info.paused = paused;
		const track = participant.tracks.get(producerId);
		if (track?.setMuted(paused)) {
			this.#context.events.emit(paused ? RoomEvent.TrackMuted : RoomEvent.TrackUnmuted, track, participant);
		}
	}

	#onConsumerClosed({ consumerId }: NotificationMap['consumerClosed']): void {
		const found = this.#findByConsumer(consumerId);
		if (!found) {
			this.#closedEarly.add(consumerId);
			return;
		}
		this.#removeTrack(found[1], found[0]);
	}

	#onConsumerPaused(consumerId: string, paused: boolean): void {
		const found = this.#findByConsumer(consumerId);
		if (found) this.#onProducerPaused(found[0].producerId, found[1].id, paused);
	}

	#onLayersChanged({ consumerId, spatialLayer, temporalLayer }: NotificationMap['consumerLayersChanged']): void {
		const found = this.#findByConsumer(consumerId);
		if (!found) return;
		found[0].setLayers(spatialLayer, temporalLayer);
		this.#context.events.emit(RoomEvent.TrackLayersChanged, found[0], spatialLayer, temporalLayer);
	}

	#findByConsumer(consumerId: string): [RemoteTrack, RemoteParticipant] | undefined {
		for (const entry of this.tracks()) if (entry[0].consumerId === consumerId) return entry;
		return undefined;
	}

	#removeParticipant(participant: RemoteParticipant, reason: CloseReason): void {
		for (const producerId of [...participant.producers.keys()]) this.#removeProducer(participant, producerId);
		this.participants.delete(participant.id);
		this.#context.events.emit(RoomEvent.ParticipantLeft, participant, reason);
	}

	#removeProducer(participant: RemoteParticipant, producerId: string): void {
		const info = participant.producers.get(producerId);
		const track = participant.tracks.get(producerId);
		if (track) this.#removeTrack(participant, track);
		if (!info) return;
		participant.producers.delete(producerId);
		this.#context.events.emit(RoomEvent.TrackUnpublished, info, participant);
	}

	#removeTrack(participant: RemoteParticipant, track: RemoteTrack): void {
		if (participant.tracks.get(track.producerId) !== track) return;
		participant.tracks.delete(track.producerId);
		track.close();
		this.#context.events.emit(RoomEvent.TrackUnsubscribed, track, participant);
	}
}

function toPeerInfo(p: RemoteParticipant): PeerInfo {
	return { id: p.id, role: p.role, displayName: p.displayName, producers: [...p.producers.values()] };
}
