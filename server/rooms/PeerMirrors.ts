import type { CloseReason, NotificationMap, NotificationName, PeerInfo } from '../protocol/index.js';
import type { PeerMedia } from '../media/index.js';
import { Peer, type PeerChannel } from './Peer.js';

/** For server-side participants (mirrors of other nodes' peers, pulled device sources): no connection. */
export const NO_CHANNEL: PeerChannel = { notify: () => undefined, close: () => undefined };

/** What the mirrors need of their room. */
export interface MirrorHost {
	/** The room's participant, local or mirrored, by id. */
	get(peerId: string): Peer | undefined;
	/** Adds a mirror to the room's participants. */
	add(peer: Peer): void;
	/** Media for a mirror: its piped producers land on a router of this room. */
	createMedia(peer: Peer): Promise<PeerMedia>;
	broadcast<N extends NotificationName>(name: N, data: NotificationMap[N], except?: Peer): void;
	remove(peer: Peer, reason: CloseReason): void;
}

/**
 * Participants of a room connected to other nodes of the cluster, as this
 * node sees them: a Peer each, with no connection, whose producers are known
 * from the cluster roster and piped here only when a local peer consumes
 * them. Local peers are told of mirrors as of anyone else.
 */
export class PeerMirrors {
	readonly #host: MirrorHost;
	/** Mirrors being created (their media opens a router asynchronously). */
	readonly #creating = new Map<string, Promise<Peer>>();

	constructor(host: MirrorHost) {
		this.#host = host;
	}

	/** A participant of another node appears, or changed (its producers, paused or not). */
	async upsert(info: PeerInfo, nodeId: string): Promise<void> {
		const existing = this.#host.get(info.id);
		if (existing && !existing.remote) return;
		const peer = existing ?? (await this.#create(info, nodeId));
		if (peer.state === 'closed') return;
		const known = new Set(info.producers.map((p) => p.id));
		for (const old of [...peer.remoteProducers.values()]) {
			if (!known.has(old.id)) this.#producerGone(peer, old.id);
		}
		for (const producer of info.producers) {
			const before = peer.remoteProducers.get(producer.id);
			peer.setRemoteProducer(producer);
			if (!before) {
				this.#host.broadcast('producerNew', { producer }, peer);
			} else if (before.paused !== producer.paused) {
				const local = peer.media.producers.get(producer.id);
				if (local) void (producer.paused ? local.pause() : local.resume()).catch(() => undefined);
				this.#host.broadcast(producer.paused ? 'producerPaused' : 'producerResumed', { producerId: producer.id, peerId: peer.id }, peer);
			}
		}
	}

	/** A participant of another node left. */
	remove(peerId: string, reason: CloseReason): void {
		const peer = this.#host.get(peerId);
		if (peer?.remote) this.#host.remove(peer, reason);
	}

	#create(info: PeerInfo, nodeId: string): Promise<Peer> {
		let creating = this.#creating.get(info.id);
		if (!creating) {
			creating = (async () => {
				const peer = new Peer({ sub: `remote:${info.id}`, role: info.role, displayName: info.displayName }, NO_CHANNEL, 'joined', { id: info.id, remote: { nodeId } });
				peer.attachMedia(await this.#host.createMedia(peer));
				this.#host.add(peer);
				this.#host.broadcast('peerJoined', { peer: { ...info, producers: [] } }, peer);
				return peer;
			})().finally(() => this.#creating.delete(info.id));
			this.#creating.set(info.id, creating);
		}
		return creating;
	}

	#producerGone(peer: Peer, producerId: string): void {
		peer.deleteRemoteProducer(producerId);
		peer.media.producers.get(producerId)?.close();
		this.#host.broadcast('producerClosed', { producerId, peerId: peer.id }, peer);
	}
}
