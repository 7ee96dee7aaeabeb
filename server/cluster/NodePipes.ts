import type { types } from 'mediasoup';
import { z } from 'zod';
import type { Logger } from '../logger/index.js';
import type { PeerProducer, ProducerAppData } from '../media/index.js';
import { IdSchema, RoomIdSchema, SfuError } from '../protocol/index.js';
import type { Peer, Room, RoomRegistry } from '../rooms/index.js';
import { callNode } from './nodeCalls.js';
import type { NodeRegistry } from './NodeRegistry.js';

export interface NodePipesOptions {
	/** HMAC secret of node-to-node calls. */
	secret: string;
	/** Where PipeTransports toward other nodes listen. */
	pipeIp: string;
	pipeAnnouncedIp?: string;
	registry: NodeRegistry;
	rooms: RoomRegistry;
	/** How long an unused pipe lingers before it closes (a viewer switching layouts comes back). Default 5000 ms. */
	pipeLingerMs?: number;
	logger: Logger;
}

/** A node asks for one of our producers: where its half of the pipe listens. */
export const PipeOfferSchema = z.strictObject({
	roomId: RoomIdSchema,
	producerId: IdSchema,
	ip: z.string().min(1).max(64),
	port: z.number().int().min(1).max(65535),
});
export type PipeOffer = z.infer<typeof PipeOfferSchema>;

/** Our answer: where our half listens and what the producer sends. */
export interface PipeAnswer {
	pipeId: string;
	ip: string;
	port: number;
	kind: types.MediaKind;
	rtpParameters: types.RtpParameters;
	paused: boolean;
	source: ProducerAppData['source'];
}

/** Our half of a pipe another node asked for. */
interface OutboundPipe {
	transport: types.PipeTransport;
	toNode: string;
}

/**
 * Media between nodes: a producer of another node is piped here over a
 * mediasoup PipeTransport only when a local participant consumes it (one pipe
 * per producer, shared by every local consumer), and the pipe closes when its
 * last local consumer has been gone for the linger time. The other node opens
 * its half when asked by a signed call (`openOutbound`, served by http/).
 */
export class NodePipes {
	readonly #options: NodePipesOptions;
	readonly #logger: Logger;
	readonly #pipesIn = new Map<string, Promise<PeerProducer>>();
	readonly #consumersOf = new Map<string, number>();
	readonly #lingerTimers = new Map<string, NodeJS.Timeout>();
	readonly #pipesOut = new Map<string, OutboundPipe>();
	#closed = false;

	constructor(options: NodePipesOptions) {
		this.#options = options;
		this.#logger = options.logger;
	}

	/** Pipes a remote peer's producer to this node (one pipe per producer, shared by concurrent callers). */
	pipeIn(room: Room, owner: Peer, producerId: string): Promise<PeerProducer> {
		if (this.#closed) return Promise.reject(new SfuError('unavailable', 'this node is shutting down'));
		let pipe = this.#pipesIn.get(producerId);
		if (!pipe) {
			pipe = this.#openInbound(room, owner, producerId);
			this.#pipesIn.set(producerId, pipe);
			pipe.catch(() => this.#pipesIn.delete(producerId));
		}
		return pipe;
	}

	/** A local consumer of a piped producer opened (a participant's, or a recorder's): the pipe stays while any is open. */
	consumerOpened(producerId: string, consumer: { readonly observer: { once(event: 'close', listener: () => void): unknown } }): void {
		this.#consumersOf.set(producerId, (this.#consumersOf.get(producerId) ?? 0) + 1);
		const timer = this.#lingerTimers.get(producerId);
		if (timer) clearTimeout(timer);
		this.#lingerTimers.delete(producerId);
		consumer.observer.once('close', () => {
			const left = (this.#consumersOf.get(producerId) ?? 1) - 1;
			this.#consumersOf.set(producerId, left);
			if (left > 0) return;
			this.#lingerTimers.set(
				producerId,
				setTimeout(() => {
					this.#lingerTimers.delete(producerId);
					if ((this.#consumersOf.get(producerId) ?? 0) > 0) return;
					this.#consumersOf.delete(producerId);
					void this.#pipesIn.get(producerId)?.then((producer) => producer.close()).catch(() => undefined);
				}, this.#options.pipeLingerMs ?? 5000),
			);
		});
	}

	/**
	 * Another node asks for one of our local producers: opens our half of the
	 * pipe toward its half and consumes the producer into it.
	 */
	async openOutbound(offer: PipeOffer, fromNode: string): Promise<PipeAnswer> {
		if (this.#closed) throw new SfuError('unavailable', 'this node is shutting down');
		const room = this.#options.rooms.get(offer.roomId);
		const owner = room?.localPeers().find((p) => p.hasMedia && p.media.producers.has(offer.producerId));
		if (!room || !owner) throw new SfuError('not_found', 'no such producer here');
		const producer = owner.media.producer(offer.producerId);
		const transport = await owner.media.home.router.createPipeTransport({ listenIp: this.#listenIp() });
		try {
			await transport.connect({ ip: offer.ip, port: offer.port });
			const consumer = await transport.consume({ producerId: producer.id });
			this.#pipesOut.set(transport.id, { transport, toNode: fromNode });
			transport.observer.once('close', () => this.#pipesOut.delete(transport.id));
			consumer.on('producerclose', () => transport.close());
			return {
				pipeId: transport.id,
				ip: transport.tuple.localIp,
				port: transport.tuple.localPort,
				kind: consumer.kind,
				rtpParameters: consumer.rtpParameters,
				paused: consumer.producerPaused,
				source: producer.appData.source,
			};
		} catch (error) {
			transport.close();
			throw error;
		}
	}

	/** The other node closed its half (its last consumer left). */
	closeOutbound(pipeId: string): void {
		this.#pipesOut.get(pipeId)?.transport.close();
	}

	/** Pipes toward nodes that stopped heartbeating die with them. */
	closeOutboundExcept(liveNodes: ReadonlySet<string>): void {
		for (const pipe of [...this.#pipesOut.values()]) {
			if (!liveNodes.has(pipe.toNode)) pipe.transport.close();
		}
	}

	/** Pipes this node pulls from others, and pipes others pull from here. */
	counts(): { inbound: number; outbound: number } {
		return { inbound: this.#pipesIn.size, outbound: this.#pipesOut.size };
	}

	/** Closes every outbound pipe and stops lingering timers. Idempotent. (Inbound pipes close with their rooms' media.) */
	close(): void {
		if (this.#closed) return;
		this.#closed = true;
		for (const timer of this.#lingerTimers.values()) clearTimeout(timer);
		this.#lingerTimers.clear();
		for (const pipe of [...this.#pipesOut.values()]) pipe.transport.close();
		this.#pipesOut.clear();
	}

	async #openInbound(room: Room, owner: Peer, producerId: string): Promise<PeerProducer> {
		const ownerNode = (await this.#options.registry.nodes()).find((n) => n.id === owner.remote?.nodeId);
		if (!ownerNode) throw new SfuError('unavailable', 'the node of that participant is gone');
		const transport = await owner.media.home.router.createPipeTransport({ listenIp: this.#listenIp() });
		try {
			const offer: PipeOffer = { roomId: room.id, producerId, ip: transport.tuple.localIp, port: transport.tuple.localPort };
			const response = await callNode(this.#options.secret, this.#nodeId, ownerNode, 'POST', '/internal/pipes', JSON.stringify(offer));
			if (!response.ok) throw new SfuError('unavailable', `the node of that participant refused the pipe (${response.status})`);
			const answer = (await response.json()) as PipeAnswer;
			await transport.connect({ ip: answer.ip, port: answer.port });
			const producer = await transport.produce<ProducerAppData>({
				id: producerId,
				kind: answer.kind,
				rtpParameters: answer.rtpParameters,
				paused: answer.paused,
				appData: { peerId: owner.id, source: answer.source },
			});
			owner.media.adoptPipeProducer(producer, () => {
				transport.close();
				this.#pipesIn.delete(producerId);
				void callNode(this.#options.secret, this.#nodeId, ownerNode, 'DELETE', `/internal/pipes/${answer.pipeId}`).catch(() => undefined);
			});
			this.#logger.info({ roomId: room.id, producerId, fromNode: ownerNode.id }, 'pipe opened from another node');
			return producer;
		} catch (error) {
			transport.close();
			throw error instanceof SfuError ? error : new SfuError('unavailable', `cannot pipe from the participant's node: ${(error as Error).message}`, { cause: error });
		}
	}

	#listenIp(): { ip: string; announcedIp?: string } {
		return { ip: this.#options.pipeIp, ...(this.#options.pipeAnnouncedIp ? { announcedIp: this.#options.pipeAnnouncedIp } : {}) };
	}

	get #nodeId(): string {
		return this.#options.registry.nodeId;
	}
}
