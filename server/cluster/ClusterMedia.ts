import type { FastifyInstance } from 'fastify';
import { Redis } from 'ioredis';
import type { types } from 'mediasoup';
import { z } from 'zod';
import { SfuError } from '../errors.js';
import type { PeerConsumer, PeerProducer, ProducerAppData } from '../media/index.js';
import type { Logger } from '../observability/index.js';
import type { Peer, RemoteMedia, Room, RoomRegistry } from '../rooms/index.js';
import type { CloseReason, PeerInfo } from '../signaling/protocol.js';
import { NODE_HEADER, signRequest, verifyRequest } from './internalAuth.js';
import type { NodeRegistry } from './NodeRegistry.js';

export interface ClusterMediaOptions {
	redisUrl: string;
	secret: string;
	/** Where PipeTransports toward other nodes listen. */
	pipeIp: string;
	pipeAnnouncedIp?: string;
	registry: NodeRegistry;
	rooms: RoomRegistry;
	/** Fastify app the internal routes go on. */
	app: FastifyInstance;
	/** How long an unused pipe lingers before it closes (a viewer switching layouts comes back). Default 5000 ms. */
	pipeLingerMs?: number;
	/** Period of the sweep that forgets dead nodes' participants. Default 2000 ms. */
	sweepMs?: number;
	logger: Logger;
}

interface RosterEntry {
	nodeId: string;
	peer: PeerInfo;
}

type RosterMessage = { nodeId: string; op: 'upsert'; peer: PeerInfo } | { nodeId: string; op: 'remove'; peerId: string; reason: CloseReason };

const rosterKey = (roomId: string): string => `sfu:room:${roomId}:roster`;
const channelOf = (roomId: string): string => `sfu:room:${roomId}:events`;

const PipeOffer = z.strictObject({ roomId: z.string().min(1).max(128), producerId: z.string().min(1).max(64), ip: z.string().min(1).max(64), port: z.number().int().min(1).max(65535) });

/** Our half of a pipe another node asked for. */
interface OutboundPipe {
	transport: types.PipeTransport;
	toNode: string;
}

/**
 * Rooms that span nodes. Each node hosts its own participants; the room's
 * roster lives in Redis (a hash per room, changes on a pub/sub channel), so
 * every node mirrors the others' participants. A producer of another node is
 * piped here over a mediasoup PipeTransport only when a local participant
 * consumes it, and the pipe closes when its last local consumer does. Pipes
 * are set up with HMAC-signed node-to-node calls.
 */
export class ClusterMedia implements RemoteMedia {
	readonly #options: ClusterMediaOptions;
	readonly #redis: Redis;
	readonly #subscriber: Redis;
	readonly #logger: Logger;
	readonly #pipesIn = new Map<string, Promise<PeerProducer>>();
	readonly #consumersOf = new Map<string, number>();
	readonly #lingerTimers = new Map<string, NodeJS.Timeout>();
	readonly #pipesOut = new Map<string, OutboundPipe>();
	readonly #sweep: NodeJS.Timeout;
	#closed = false;

	constructor(options: ClusterMediaOptions) {
		this.#options = options;
		this.#logger = options.logger;
		const redisOptions = { retryStrategy: (times: number) => Math.min(200 * times, 2000), maxRetriesPerRequest: 1 };
		this.#redis = new Redis(options.redisUrl, redisOptions);
		this.#subscriber = new Redis(options.redisUrl, redisOptions);
		for (const client of [this.#redis, this.#subscriber]) client.on('error', () => undefined);
		this.#subscriber.on('message', (channel: string, message: string) => this.#onMessage(channel, message));
		options.rooms.on('roomclose', (room) => void this.#detach(room));
		this.#registerRoutes(options.app);
		this.#sweep = setInterval(() => void this.#forgetDeadNodes(), options.sweepMs ?? 2000);
	}

	/** Pipes a remote peer's producer to this node (one pipe per producer, shared by concurrent callers). */
	pipeIn(room: Room, owner: Peer, producerId: string): Promise<PeerProducer> {
		let pipe = this.#pipesIn.get(producerId);
		if (!pipe) {
			pipe = this.#openPipe(room, owner, producerId);
			this.#pipesIn.set(producerId, pipe);
			pipe.catch(() => this.#pipesIn.delete(producerId));
		}
		return pipe;
	}

	consumerOpened(producerId: string, consumer: PeerConsumer): void {
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

	/** Pipes in this node pulls from others, and pipes others pull from here. */
	counts(): { inbound: number; outbound: number } {
		return { inbound: this.#pipesIn.size, outbound: this.#pipesOut.size };
	}

	async close(): Promise<void> {
		if (this.#closed) return;
		this.#closed = true;
		clearInterval(this.#sweep);
		for (const timer of this.#lingerTimers.values()) clearTimeout(timer);
		for (const pipe of this.#pipesOut.values()) pipe.transport.close();
		this.#pipesOut.clear();
		this.#subscriber.disconnect();
		this.#redis.disconnect();
	}

	// --- Roster ------------------------------------------------------------------

	/** Follows a room that just opened here: publishes its participants, mirrors the others'. */
	async attach(room: Room): Promise<void> {
		room.remoteMedia = this;
		// Viewers of a broadcast stay off the shared roster: hundreds of them
		// would be hundreds of messages to every node for nothing.
		const listed = (peer: Peer): boolean => !peer.remote && !(room.policy.type === 'broadcast' && peer.role === 'observer');
		const publish = (peer: Peer): void => {
			if (listed(peer) && peer.hasMedia) void this.#publish(room.id, { nodeId: this.#nodeId, op: 'upsert', peer: peer.info() });
		};
		room.on('peerjoined', publish);
		room.on('producernew', publish);
		room.on('producerclose', publish);
		room.on('producerpause', publish);
		room.on('producerresume', publish);
		room.on('peerleft', (peer, reason) => {
			if (listed(peer)) void this.#publish(room.id, { nodeId: this.#nodeId, op: 'remove', peerId: peer.id, reason });
		});
		try {
			await this.#subscriber.subscribe(channelOf(room.id));
			const live = new Set((await this.#options.registry.nodes()).map((n) => n.id));
			const roster = await this.#redis.hgetall(rosterKey(room.id));
			for (const value of Object.values(roster)) {
				const entry = JSON.parse(value) as RosterEntry;
				if (entry.nodeId !== this.#nodeId && live.has(entry.nodeId)) await room.upsertRemotePeer(entry.peer, entry.nodeId);
			}
		} catch (error) {
			this.#logger.error({ err: error, roomId: room.id }, 'cannot read the room roster: participants on other nodes are not visible yet');
		}
	}

	async #detach(room: Room): Promise<void> {
		room.remoteMedia = null;
		try {
			await this.#subscriber.unsubscribe(channelOf(room.id));
		} catch {
			// Redis down: the subscription dies with the connection.
		}
	}

	async #publish(roomId: string, message: RosterMessage): Promise<void> {
		try {
			if (message.op === 'upsert') await this.#redis.hset(rosterKey(roomId), message.peer.id, JSON.stringify({ nodeId: message.nodeId, peer: message.peer } satisfies RosterEntry));
			else await this.#redis.hdel(rosterKey(roomId), message.peerId);
			await this.#redis.publish(channelOf(roomId), JSON.stringify(message));
		} catch (error) {
			this.#logger.warn({ err: error, roomId }, 'cannot publish a roster change: other nodes will not see it until Redis is back');
		}
	}

	#onMessage(channel: string, text: string): void {
		const roomId = channel.slice('sfu:room:'.length, -':events'.length);
		const room = this.#options.rooms.get(roomId);
		if (!room || room.closed) return;
		let message: RosterMessage;
		try {
			message = JSON.parse(text) as RosterMessage;
		} catch {
			return;
		}
		if (message.nodeId === this.#nodeId) return;
		if (message.op === 'upsert') {
			room.upsertRemotePeer(message.peer, message.nodeId).catch((error: Error) => this.#logger.warn({ err: error, roomId }, 'cannot mirror a remote participant'));
		} else {
			room.removeRemotePeer(message.peerId, message.reason);
		}
	}

	/** A node that stopped heartbeating takes its participants and pipes with it. */
	async #forgetDeadNodes(): Promise<void> {
		let live: Set<string>;
		try {
			live = new Set((await this.#options.registry.nodes()).map((n) => n.id));
		} catch {
			return; // Redis down: nothing can be concluded.
		}
		for (const room of this.#options.rooms.rooms()) {
			for (const peer of room.peers()) {
				if (peer.remote && !live.has(peer.remote.nodeId)) {
					this.#logger.info({ roomId: room.id, peerId: peer.id, nodeId: peer.remote.nodeId }, 'participant of a dead node removed');
					room.removeRemotePeer(peer.id, 'disconnected');
					void this.#redis.hdel(rosterKey(room.id), peer.id).catch(() => undefined);
				}
			}
		}
		for (const [id, pipe] of this.#pipesOut) {
			if (!live.has(pipe.toNode)) {
				pipe.transport.close();
				this.#pipesOut.delete(id);
			}
		}
	}

	// --- Pipes -------------------------------------------------------------------

	async #openPipe(room: Room, owner: Peer, producerId: string): Promise<PeerProducer> {
		const ownerNode = (await this.#options.registry.nodes()).find((n) => n.id === owner.remote!.nodeId);
		if (!ownerNode) throw new SfuError('unavailable', 'the node of that participant is gone');
		const router = owner.media.home.router;
		const transport = await router.createPipeTransport({ listenIp: { ip: this.#options.pipeIp, ...(this.#options.pipeAnnouncedIp ? { announcedIp: this.#options.pipeAnnouncedIp } : {}) } });
		try {
			const path = '/internal/pipes';
			const body = JSON.stringify({ roomId: room.id, producerId, ip: transport.tuple.localIp, port: transport.tuple.localPort });
			const response = await fetch(`${ownerNode.internalUrl}${path}`, {
				method: 'POST',
				headers: { 'content-type': 'text/plain', ...signRequest(this.#options.secret, this.#nodeId, 'POST', path, body) },
				body,
				signal: AbortSignal.timeout(5000),
			});
			if (!response.ok) throw new SfuError('unavailable', `the node of that participant refused the pipe (${response.status})`);
			const offer = (await response.json()) as { pipeId: string; ip: string; port: number; kind: types.MediaKind; rtpParameters: types.RtpParameters; paused: boolean; source: ProducerAppData['source'] };
			await transport.connect({ ip: offer.ip, port: offer.port });
			const producer = await transport.produce<ProducerAppData>({
				id: producerId,
				kind: offer.kind,
				rtpParameters: offer.rtpParameters,
				paused: offer.paused,
				appData: { peerId: owner.id, source: offer.source },
			});
			owner.media.adoptPipeProducer(producer, () => {
				transport.close();
				this.#pipesIn.delete(producerId);
				void this.#closeRemotePipe(ownerNode.internalUrl, offer.pipeId);
			});
			this.#logger.info({ roomId: room.id, producerId, fromNode: ownerNode.id }, 'pipe opened from another node');
			return producer;
		} catch (error) {
			transport.close();
			throw error instanceof SfuError ? error : new SfuError('unavailable', `cannot pipe from the participant's node: ${(error as Error).message}`);
		}
	}

	async #closeRemotePipe(internalUrl: string, pipeId: string): Promise<void> {
		const path = `/internal/pipes/${pipeId}`;
		try {
			await fetch(`${internalUrl}${path}`, { method: 'DELETE', headers: signRequest(this.#options.secret, this.#nodeId, 'DELETE', path, ''), signal: AbortSignal.timeout(5000) });
		} catch {
			// The other node is gone: its half died with it.
		}
	}

	#registerRoutes(app: FastifyInstance): void {
		const authentic = (method: string, path: string, headers: Record<string, string | string[] | undefined>, body: string): boolean =>
			verifyRequest(this.#options.secret, headers, method, path, body);

		app.post('/internal/pipes', async (request, reply) => {
			const body = typeof request.body === 'string' ? request.body : '';
			if (!authentic('POST', '/internal/pipes', request.headers, body)) return reply.code(401).send({ error: { code: 'unauthorized', message: 'unsigned node call' } });
			const offer = PipeOffer.safeParse((() => {
				try {
					return JSON.parse(body) as unknown;
				} catch {
					return null;
				}
			})());
			if (!offer.success) return reply.code(400).send({ error: { code: 'invalid_request', message: 'bad pipe offer' } });
			const room = this.#options.rooms.get(offer.data.roomId);
			const owner = room?.localPeers().find((p) => p.hasMedia && p.media.producers.has(offer.data.producerId));
			if (!room || !owner) return reply.code(404).send({ error: { code: 'not_found', message: 'no such producer here' } });
			const producer = owner.media.producer(offer.data.producerId);
			const transport = await owner.media.home.router.createPipeTransport({ listenIp: { ip: this.#options.pipeIp, ...(this.#options.pipeAnnouncedIp ? { announcedIp: this.#options.pipeAnnouncedIp } : {}) } });
			await transport.connect({ ip: offer.data.ip, port: offer.data.port });
			const consumer = await transport.consume({ producerId: producer.id });
			const fromNode = String(request.headers[NODE_HEADER] ?? 'unknown');
			this.#pipesOut.set(transport.id, { transport, toNode: fromNode });
			consumer.on('producerclose', () => {
				transport.close();
				this.#pipesOut.delete(transport.id);
			});
			return {
				pipeId: transport.id,
				ip: transport.tuple.localIp,
				port: transport.tuple.localPort,
				kind: consumer.kind,
				rtpParameters: consumer.rtpParameters,
				paused: consumer.producerPaused,
				source: producer.appData.source,
			};
		});

		app.delete('/internal/pipes/:id', async (request, reply) => {
			const id = (request.params as { id: string }).id;
			if (!authentic('DELETE', `/internal/pipes/${id}`, request.headers, '')) return reply.code(401).send({ error: { code: 'unauthorized', message: 'unsigned node call' } });
			this.#pipesOut.get(id)?.transport.close();
			this.#pipesOut.delete(id);
			return reply.code(204).send();
		});
	}

	get #nodeId(): string {
		return this.#options.registry.nodeId;
	}
}
