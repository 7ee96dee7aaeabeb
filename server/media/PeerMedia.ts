import { EventEmitter } from 'node:events';
import { randomBytes } from 'node:crypto';
import type { types } from 'mediasoup';
import { SfuError, type Source, type TransportParams } from '../protocol/index.js';
import type { Logger } from '../logger/index.js';
import type { RoomMedia, RoomRouter } from './RoomMedia.js';
import { IngestStream, type IngestEndpoint, type IngestInput } from './IngestStream.js';

export type { IngestEndpoint, IngestInput, IngestStreamEndpoint } from './IngestStream.js';

export interface PeerMediaOptions {
	/** Producers this peer may hold at once. */
	maxProducers: number;
	/** WebRtcTransports per direction this peer may hold at once. Default 2. */
	maxTransportsPerDirection?: number;
	/** Cap on what the peer may send, bits/s. */
	maxIncomingBitrate: number;
	/** First estimate of the peer's downlink, bits/s. */
	initialAvailableOutgoingBitrate: number;
	/**
	 * Key frames requested of this peer's video at most this often: in a
	 * broadcast, hundreds of late viewers share one request. Default 0 (device streams: 1000).
	 */
	keyFrameRequestDelayMs?: number;
}

export interface TransportAppData {
	[key: string]: unknown;
	peerId: string;
	direction: 'send' | 'recv';
	/** Set by the first connectTransport: the remote DTLS fingerprint is given once. */
	connectCalled?: boolean;
}

export interface ProducerAppData {
	[key: string]: unknown;
	peerId: string;
	source: Source;
}

export interface ConsumerAppData {
	[key: string]: unknown;
	/** The consuming peer. */
	peerId: string;
	/** The peer whose producer this consumes. */
	producerPeerId: string;
	source: Source;
}

export type PeerProducer = types.Producer<ProducerAppData>;
export type PeerConsumer = types.Consumer<ConsumerAppData>;
type PeerTransport = types.WebRtcTransport<TransportAppData>;

export type PeerMediaEvents = {
	/** A producer closed because its transport did (not by request). */
	producerclose: [producer: PeerProducer];
	/** A consumer closed because its producer or transport did. */
	consumerclose: [consumer: PeerConsumer];
	/** The producer behind a consumer was paused / resumed. */
	consumerpause: [consumer: PeerConsumer];
	consumerresume: [consumer: PeerConsumer];
	consumerlayerschange: [consumer: PeerConsumer, layers: types.ConsumerLayers | undefined];
	/** mediasoup's view of a consumer's quality changed (0..10). */
	consumerscore: [consumer: PeerConsumer, score: types.ConsumerScore];
};

/**
 * One peer's transports, producers and consumers, all on the peer's home
 * router. Owns them: close() releases every one.
 */
export class PeerMedia extends EventEmitter<PeerMediaEvents> {
	readonly peerId: string;
	readonly home: RoomRouter;
	readonly #room: RoomMedia;
	readonly #options: PeerMediaOptions;
	readonly #logger: Logger;
	readonly #transports = new Map<string, PeerTransport>();
	readonly #producers = new Map<string, PeerProducer>();
	readonly #consumers = new Map<string, PeerConsumer>();
	readonly #ingests = new Map<string, IngestStream>();
	#closed = false;

	constructor(peerId: string, room: RoomMedia, home: RoomRouter, options: PeerMediaOptions, logger: Logger) {
		super();
		this.peerId = peerId;
		this.#room = room;
		this.home = home;
		this.#options = options;
		this.#logger = logger;
	}

	get closed(): boolean {
		return this.#closed;
	}

	get producers(): ReadonlyMap<string, PeerProducer> {
		return this.#producers;
	}

	get consumers(): ReadonlyMap<string, PeerConsumer> {
		return this.#consumers;
	}

	get transportIds(): string[] {
		return [...this.#transports.keys()];
	}

	async createTransport(direction: 'send' | 'recv'): Promise<Omit<TransportParams, 'iceServers'>> {
		this.#assertOpen();
		const limit = this.#options.maxTransportsPerDirection ?? 2;
		const existing = [...this.#transports.values()].filter((t) => t.appData.direction === direction).length;
		if (existing >= limit) throw new SfuError('limit_exceeded', `at most ${limit} ${direction} transports per peer`);
		const webRtcServer = this.home.worker.appData.webRtcServer;
		if (!webRtcServer) throw new SfuError('unavailable', 'this worker has no WebRtcServer');
		const transport = await this.home.router.createWebRtcTransport<TransportAppData>({
			webRtcServer,
			enableUdp: true,
			enableTcp: true,
			preferUdp: true,
			initialAvailableOutgoingBitrate: this.#options.initialAvailableOutgoingBitrate,
			appData: { peerId: this.peerId, direction },
		});
		if (this.#closed) {
			transport.close();
			throw new SfuError('invalid_state', 'the peer left');
		}
		this.#transports.set(transport.id, transport);
		transport.observer.once('close', () => this.#transports.delete(transport.id));
		transport.on('dtlsstatechange', (state) => {
			if (state === 'failed' || state === 'closed') this.#logger.warn({ transportId: transport.id, state }, 'transport DTLS ended');
		});
		if (direction === 'send') await transport.setMaxIncomingBitrate(this.#options.maxIncomingBitrate);
		return {
			id: transport.id,
			iceParameters: transport.iceParameters,
			iceCandidates: transport.iceCandidates.map((candidate) => ({ ...candidate, address: candidate.ip })),
			dtlsParameters: transport.dtlsParameters as TransportParams['dtlsParameters'],
		};
	}

	async connectTransport(transportId: string, dtlsParameters: types.DtlsParameters): Promise<void> {
		const transport = this.#transport(transportId);
		// Not dtlsState: a client whose WebRTC stack starts ICE before it calls connectTransport
		// (pion, aiortc, GStreamer and werift apply their answer first) finds mediasoup already
		// running DTLS as server — its fingerprint is still welcome; only a second call is not.
		if (transport.appData.connectCalled) throw new SfuError('invalid_state', 'connectTransport was already called for this transport');
		transport.appData.connectCalled = true;
		try {
			await transport.connect({ dtlsParameters });
		} catch (error) {
			transport.appData.connectCalled = false;
			throw error;
		}
	}

	async restartIce(transportId: string): Promise<types.IceParameters> {
		return this.#transport(transportId).restartIce();
	}

	async produce(input: { transportId: string; kind: types.MediaKind; rtpParameters: types.RtpParameters; source: Source; paused?: boolean }): Promise<PeerProducer> {
		const transport = this.#transport(input.transportId);
		if (transport.appData.direction !== 'send') throw new SfuError('invalid_state', 'produce needs a send transport');
		if (this.#producers.size >= this.#options.maxProducers) {
			throw new SfuError('limit_exceeded', `at most ${this.#options.maxProducers} producers per peer`);
		}
		for (const other of this.#producers.values()) {
			if (other.appData.source === input.source && other.kind === input.kind) {
				throw new SfuError('invalid_state', `a ${input.source} ${input.kind} producer already exists; close it first`);
			}
		}
		const producer = await transport.produce<ProducerAppData>({
			kind: input.kind,
			rtpParameters: input.rtpParameters,
			paused: input.paused ?? false,
			// A device encoder is asked for a key frame at most once a second,
			// however many viewers ask: 20 Mbit/s I-frames must not pile up.
			keyFrameRequestDelay: input.source === 'device' ? 1000 : (this.#options.keyFrameRequestDelayMs ?? 0),
			appData: { peerId: this.peerId, source: input.source },
		});
		if (this.#closed) {
			producer.close();
			throw new SfuError('invalid_state', 'the peer left');
		}
		this.#producers.set(producer.id, producer);
		producer.observer.once('close', () => this.#producers.delete(producer.id));
		producer.on('transportclose', () => this.emit('producerclose', producer));
		if (producer.kind === 'audio') {
			this.#room.observeSpeaker(producer, this.home.router).catch((error: Error) => {
				if (!producer.closed) this.#logger.warn({ err: error, producerId: producer.id }, 'active speaker observer refused producer');
			});
		}
		return producer;
	}

	/**
	 * Push ingest: opens one endpoint per kind (see IngestStream) and adopts
	 * its producer as this peer's `device` producer.
	 */
	async createIngest(input: IngestInput): Promise<{ endpoint: IngestEndpoint; producers: PeerProducer[] }> {
		this.#assertOpen();
		if (this.#producers.size + input.kinds.length > this.#options.maxProducers) {
			throw new SfuError('limit_exceeded', `at most ${this.#options.maxProducers} producers per peer`);
		}
		for (const other of this.#producers.values()) {
			if (other.appData.source === 'device' && input.kinds.includes(other.kind)) throw new SfuError('invalid_state', `a device ${other.kind} stream already exists; close it first`);
		}
		const key = input.srtp ? randomBytes(30).toString('base64') : null;
		const opened: IngestStream[] = [];
		try {
			for (const kind of input.kinds) {
				const stream = await IngestStream.open(this.home.router, { peerId: this.peerId, kind, input, srtpKey: key });
				opened.push(stream);
				this.#adoptIngest(stream);
			}
		} catch (error) {
			for (const stream of opened) stream.close();
			throw error;
		}
		return {
			endpoint: { streams: opened.map((s) => s.endpoint), ...(key ? { srtp: { cryptoSuite: 'AES_CM_128_HMAC_SHA1_80' as const, keyBase64: key } } : {}) },
			producers: opened.map((s) => s.producer),
		};
	}

	/**
	 * Reopens an ingest endpoint on the same port with a fresh producer: a
	 * comedia transport locks onto the first sender's address, so a restarted
	 * encoder (new source port) is heard only after this. Returns the new producer.
	 */
	async rebindIngest(producerId: string): Promise<PeerProducer> {
		const stream = this.#ingests.get(producerId);
		if (!stream) throw new SfuError('not_found', 'no such ingest stream');
		this.#ingests.delete(producerId);
		const fresh = await stream.reopen(this.home.router);
		this.#adoptIngest(fresh);
		return fresh.producer;
	}

	/**
	 * A producer piped in from another node for a remote peer: tracked like
	 * the peer's own, closed with it; `onClose` tears the pipe down.
	 */
	adoptPipeProducer(producer: PeerProducer, onClose: () => void): void {
		this.#producers.set(producer.id, producer);
		producer.observer.once('close', () => {
			this.#producers.delete(producer.id);
			onClose();
		});
	}

	/** The ingest endpoint behind a device producer, if it is one. */
	ingestOf(producerId: string): IngestStream | undefined {
		return this.#ingests.get(producerId);
	}

	#adoptIngest(stream: IngestStream): void {
		const producer = stream.producer;
		this.#ingests.set(producer.id, stream);
		this.#producers.set(producer.id, producer);
		producer.observer.once('close', () => {
			this.#producers.delete(producer.id);
			if (this.#ingests.get(producer.id) === stream) {
				this.#ingests.delete(producer.id);
				stream.close();
			}
		});
		producer.on('transportclose', () => this.emit('producerclose', producer));
	}

	producer(producerId: string): PeerProducer {
		const producer = this.#producers.get(producerId);
		if (!producer) throw new SfuError('not_found', 'no such producer');
		return producer;
	}

	/**
	 * Consumes another peer's producer on this peer's receive transport, piping
	 * it to this peer's router first when it lives on another one. The consumer
	 * starts paused; the client resumes it once its side is ready.
	 */
	async consume(producer: PeerProducer, producerRouter: types.Router, rtpCapabilities: types.RtpCapabilities, priority: number): Promise<PeerConsumer> {
		this.#assertOpen();
		const transport = [...this.#transports.values()].reverse().find((t) => t.appData.direction === 'recv');
		if (!transport) throw new SfuError('invalid_state', 'create a recv transport first');
		for (const existing of this.#consumers.values()) {
			if (existing.producerId === producer.id) throw new SfuError('invalid_state', 'already consuming this producer');
		}
		await this.#room.ensureProducerOn(producer, producerRouter, this.home.router);
		if (producer.closed) throw new SfuError('not_found', 'the producer closed');
		if (!this.home.router.canConsume({ producerId: producer.id, rtpCapabilities })) {
			throw new SfuError('cannot_consume', 'this device cannot receive that producer (codec mismatch)');
		}
		const consumer = await transport.consume<ConsumerAppData>({
			producerId: producer.id,
			rtpCapabilities,
			paused: true,
			// NACK for audio too (mediasoup keeps it for video only by default): a receiver on a
			// lossy downlink asks again for what it lost, since the sender's Opus FEC never hears
			// of this leg's loss (the SFU ends RTCP). Only receivers that declare NACK get it.
			enableRtx: true,
			appData: { peerId: this.peerId, producerPeerId: producer.appData.peerId, source: producer.appData.source },
		});
		if (this.#closed) {
			consumer.close();
			throw new SfuError('invalid_state', 'the peer left');
		}
		if (priority !== 1) await consumer.setPriority(priority);
		this.#consumers.set(consumer.id, consumer);
		consumer.observer.once('close', () => this.#consumers.delete(consumer.id));
		consumer.on('producerclose', () => this.emit('consumerclose', consumer));
		consumer.on('transportclose', () => this.emit('consumerclose', consumer));
		consumer.on('producerpause', () => this.emit('consumerpause', consumer));
		consumer.on('producerresume', () => this.emit('consumerresume', consumer));
		consumer.on('layerschange', (layers) => this.emit('consumerlayerschange', consumer, layers));
		consumer.on('score', (score) => this.emit('consumerscore', consumer, score));
		return consumer;
	}

	consumer(consumerId: string): PeerConsumer {
		const consumer = this.#consumers.get(consumerId);
		if (!consumer) throw new SfuError('not_found', 'no such consumer');
		return consumer;
	}

	/**
	 * On resume: keeps the listed transports (the client restarts ICE on them)
	 * and closes the others with their producers and consumers.
	 */
	keepTransports(transportIds: readonly string[]): void {
		for (const [id, transport] of this.#transports) {
			if (!transportIds.includes(id)) transport.close();
		}
	}

	/** Closes every transport, and with them every producer and consumer. Idempotent. */
	close(): void {
		if (this.#closed) return;
		this.#closed = true;
		for (const transport of this.#transports.values()) transport.close();
		for (const stream of this.#ingests.values()) stream.close();
		this.#transports.clear();
		this.#ingests.clear();
		this.#producers.clear();
		this.#consumers.clear();
	}

	#transport(transportId: string): PeerTransport {
		this.#assertOpen();
		const transport = this.#transports.get(transportId);
		if (!transport) throw new SfuError('not_found', 'no such transport');
		return transport;
	}

	#assertOpen(): void {
		if (this.#closed) throw new SfuError('invalid_state', 'the peer left');
	}
}
