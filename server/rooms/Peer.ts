import { EventEmitter } from 'node:events';
import { randomUUID } from 'node:crypto';
import type { types } from 'mediasoup';
import { canConsume, canPublish } from '../auth/index.js';
import { SfuError, type NotificationMap, type NotificationName, type PeerInfo, type ProducerInfo, type Role, type Source } from '../protocol/index.js';
import type { IngestEndpoint, PeerConsumer, PeerMedia, PeerProducer } from '../media/index.js';
import { consumerPriority } from '../../worker-config/index.js';

/**
 * Where a peer's notifications go. Signaling implements it over a socket;
 * rooms never see the socket itself.
 */
export interface PeerChannel {
	notify<N extends NotificationName>(name: N, data: NotificationMap[N]): void;
	/**
	 * Ends the connection (after a kick, a denial, or the room closing). With
	 * `reconnect`, drops it the way a network failure would, so the client
	 * reconnects and rejoins by itself.
	 */
	close(options?: { reconnect?: boolean }): void;
}

export type PeerState = 'waiting' | 'joined' | 'disconnected' | 'closed';

export interface PeerIdentity {
	/** Opaque user id from the token; the key for resuming. */
	sub: string;
	role: Role;
	/** Shown to others; never logged. */
	displayName: string;
}

export type PeerEvents = {
	producernew: [producer: PeerProducer];
	producerclose: [producer: PeerProducer];
	producerpause: [producer: PeerProducer];
	producerresume: [producer: PeerProducer];
};

export function producerInfo(producer: PeerProducer): ProducerInfo {
	return {
		id: producer.id,
		peerId: producer.appData.peerId,
		kind: producer.kind,
		source: producer.appData.source,
		paused: producer.paused,
	};
}

/**
 * A participant of a room: identity and role, connection state, and (once
 * admitted) its media. Enforces what its role may do.
 */
export class Peer extends EventEmitter<PeerEvents> {
	readonly id: string;
	readonly identity: PeerIdentity;
	/**
	 * Set for a participant connected to another node of the cluster: its
	 * producers are known from the roster and piped here only when consumed.
	 */
	readonly remote: { nodeId: string } | null;
	readonly #remoteProducers = new Map<string, ProducerInfo>();
	#state: PeerState;
	#channel: PeerChannel | null;
	#media: PeerMedia | null = null;
	#rtpCapabilities: types.RtpCapabilities | null = null;
	/** Pending removal of a disconnected peer. */
	graceTimer: NodeJS.Timeout | null = null;

	constructor(identity: PeerIdentity, channel: PeerChannel, state: 'waiting' | 'joined', options: { id?: string; remote?: { nodeId: string } } = {}) {
		super();
		this.id = options.id ?? randomUUID();
		this.remote = options.remote ?? null;
		this.identity = identity;
		this.#channel = channel;
		this.#state = state;
	}

	get role(): Role {
		return this.identity.role;
	}

	get state(): PeerState {
		return this.#state;
	}

	get media(): PeerMedia {
		if (!this.#media) throw new SfuError(this.#state === 'waiting' ? 'waiting_for_admission' : 'not_joined', 'join the room first');
		return this.#media;
	}

	get hasMedia(): boolean {
		return this.#media !== null;
	}

	get rtpCapabilities(): types.RtpCapabilities | null {
		return this.#rtpCapabilities;
	}

	set rtpCapabilities(capabilities: types.RtpCapabilities) {
		this.#rtpCapabilities = capabilities;
	}

	info(): PeerInfo {
		return {
			id: this.id,
			role: this.identity.role,
			displayName: this.identity.displayName,
			producers: this.remote ? [...this.#remoteProducers.values()] : this.#media ? [...this.#media.producers.values()].map(producerInfo) : [],
		};
	}

	/** A remote peer's producers, as the roster describes them. */
	get remoteProducers(): ReadonlyMap<string, ProducerInfo> {
		return this.#remoteProducers;
	}

	setRemoteProducer(info: ProducerInfo): void {
		this.#remoteProducers.set(info.id, info);
	}

	deleteRemoteProducer(producerId: string): void {
		this.#remoteProducers.delete(producerId);
	}

	notify<N extends NotificationName>(name: N, data: NotificationMap[N]): void {
		this.#channel?.notify(name, data);
	}

	/** Admitted (or joined directly): the peer gets its media on `media`'s router. */
	attachMedia(media: PeerMedia): void {
		this.#media = media;
		this.#state = 'joined';
		media.on('producerclose', (producer) => this.emit('producerclose', producer));
	}

	/** Whether `channel` is the one this peer currently talks through. */
	notifiesThrough(channel: PeerChannel): boolean {
		return this.#channel === channel;
	}

	/** The socket dropped: keep everything, stop sending notifications. */
	detachChannel(): void {
		this.#channel = null;
		if (this.#state === 'joined') this.#state = 'disconnected';
	}

	/** A new socket took over (resume, or the same user in a new tab). */
	attachChannel(channel: PeerChannel): void {
		const previous = this.#channel;
		this.#channel = channel;
		if (previous && previous !== channel) previous.close();
		if (this.#state === 'disconnected') this.#state = 'joined';
		if (this.graceTimer) clearTimeout(this.graceTimer);
		this.graceTimer = null;
	}

	async produce(input: { transportId: string; kind: types.MediaKind; rtpParameters: types.RtpParameters; source: Source; paused?: boolean }): Promise<PeerProducer> {
		if (!canPublish(this.role, input.source)) {
			throw new SfuError('forbidden', `role ${this.role} may not publish ${input.source}`);
		}
		if (input.source === 'microphone' && input.kind !== 'audio') throw new SfuError('invalid_payload', 'a microphone source must be audio');
		if (input.source === 'camera' && input.kind !== 'video') throw new SfuError('invalid_payload', 'a camera source must be video');
		const producer = await this.media.produce(input);
		this.emit('producernew', producer);
		return producer;
	}

	/** Push ingest: where a device encoder should send; the producers join the room now. */
	async createIngest(input: Parameters<PeerMedia['createIngest']>[0]): Promise<IngestEndpoint> {
		if (!canPublish(this.role, 'device')) throw new SfuError('forbidden', `role ${this.role} may not publish a device stream`);
		const { endpoint, producers } = await this.media.createIngest(input);
		for (const producer of producers) this.emit('producernew', producer);
		return endpoint;
	}

	/** Reopens a push-ingest stream for a restarted encoder; others see the old producer close and a new one appear. */
	async rebindIngest(producerId: string): Promise<PeerProducer> {
		const old = this.media.producer(producerId);
		const fresh = await this.media.rebindIngest(producerId);
		this.emit('producerclose', old);
		this.emit('producernew', fresh);
		return fresh;
	}

	closeProducer(producerId: string): PeerProducer {
		const producer = this.media.producer(producerId);
		producer.close();
		this.emit('producerclose', producer);
		return producer;
	}

	async pauseProducer(producerId: string): Promise<PeerProducer> {
		const producer = this.media.producer(producerId);
		if (!producer.paused) {
			await producer.pause();
			this.emit('producerpause', producer);
		}
		return producer;
	}

	async resumeProducer(producerId: string): Promise<PeerProducer> {
		const producer = this.media.producer(producerId);
		if (producer.paused) {
			await producer.resume();
			this.emit('producerresume', producer);
		}
		return producer;
	}

	async consume(producer: PeerProducer, producerRouter: types.Router): Promise<PeerConsumer> {
		if (!canConsume(this.role)) throw new SfuError('forbidden', `role ${this.role} may not consume`);
		if (!this.#rtpCapabilities) throw new SfuError('invalid_state', 'send setRtpCapabilities (or rtpCapabilities in join) first');
		return this.media.consume(producer, producerRouter, this.#rtpCapabilities, consumerPriority(producer.appData.source));
	}

	/**
	 * Leaves for good: media closed, and the connection ended if one is still
	 * attached (a kick, a denial, the room closing). Idempotent.
	 */
	close(options: { reconnect?: boolean } = {}): void {
		if (this.#state === 'closed') return;
		this.#state = 'closed';
		if (this.graceTimer) clearTimeout(this.graceTimer);
		this.graceTimer = null;
		this.removeAllListeners();
		this.#media?.close();
		const channel = this.#channel;
		this.#channel = null;
		channel?.close(options);
	}
}
