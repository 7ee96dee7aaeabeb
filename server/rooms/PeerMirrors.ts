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
	/** The waiting list changed: hosts of this node are told. */
	waitingChanged(): void;
	/** A mirror appeared or changed (recordings follow it). */
	updated(peer: Peer): void;
	remove(peer: Peer, reason: CloseReason): void;
}

/** How another node describes one of its participants (the cluster roster). */
export interface MirrorEntry {
	/** The node the participant is connected to. */
	nodeId: string;
	/** The token's opaque `sub` (audit, admissions); never sent to clients. */
	sub: string;
	/** Waiting for a host (listed to hosts only), or in the room. */
	state: 'waiting' | 'joined';
	peer: PeerInfo;
}

/**
 * Participants of a room connected to other nodes of the cluster, as this
 * node sees them: a Peer each, with no connection. A waiting one is listed to
 * this node's hosts; a joined one has media whose producers are known from
 * the cluster roster and piped here only when a local peer consumes them.
 * Local peers are told of mirrors as of anyone else.
 */
export class PeerMirrors {
	readonly #host: MirrorHost;
	/** Mirrors being created or given media (a router opens asynchronously), by peer id. */
	readonly #pending = new Map<string, Promise<void>>();

	constructor(host: MirrorHost) {
		this.#host = host;
	}

	/** A participant of another node appears, or changed (admitted, its producers, paused or not). */
	upsert(entry: MirrorEntry): Promise<void> {
		return this.#enqueue(entry.peer.id, () => this.#apply(entry));
	}

	/** A participant of another node left (or stopped waiting). */
	remove(peerId: string, reason: CloseReason): Promise<void> {
		return this.#enqueue(peerId, async () => {
			const peer = this.#host.get(peerId);
			if (peer?.remote) this.#host.remove(peer, reason);
		});
	}

	/** Changes to one participant apply in arrival order: its media opens asynchronously. */
	#enqueue(peerId: string, task: () => Promise<void>): Promise<void> {
		const next = (this.#pending.get(peerId) ?? Promise.resolve()).then(task);
		const settled = next.catch(() => undefined);
		this.#pending.set(peerId, settled);
		void settled.then(() => {
			if (this.#pending.get(peerId) === settled) this.#pending.delete(peerId);
		});
		return next;
	}

	/** Media for a mirror, unless the mirror closed while its router opened. */
	async #attachMedia(peer: Peer): Promise<boolean> {
		const media = await this.#host.createMedia(peer);
		if (peer.state === 'closed') {
			media.close();
			return false;
		}
		peer.attachMedia(media);
		return true;
	}

	async #apply(entry: MirrorEntry): Promise<void> {
		const { peer: info, nodeId } = entry;
		let peer = this.#host.get(info.id);
		if (peer && !peer.remote) return;
		if (!peer) {
			peer = new Peer({ sub: entry.sub, role: info.role, displayName: info.displayName }, NO_CHANNEL, entry.state === 'waiting' ? 'waiting' : 'joined', { id: info.id, remote: { nodeId } });
			if (entry.state === 'waiting') {
				this.#host.add(peer);
				this.#host.waitingChanged();
				return;
			}
			if (!(await this.#attachMedia(peer))) return;
			this.#host.add(peer);
			if (peer.state === 'closed') return;
			this.#host.broadcast('peerJoined', { peer: { ...info, producers: [] } }, peer);
		} else if (peer.state === 'waiting') {
			if (entry.state === 'waiting') return;
			// Admitted on its node and joined there.
			if (!(await this.#attachMedia(peer))) return;
			this.#host.waitingChanged();
			this.#host.broadcast('peerJoined', { peer: { ...info, producers: [] } }, peer);
		}
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
		this.#host.updated(peer);
	}

	#producerGone(peer: Peer, producerId: string): void {
		peer.deleteRemoteProducer(producerId);
		peer.media.producers.get(producerId)?.close();
		this.#host.broadcast('producerClosed', { producerId, peerId: peer.id }, peer);
	}
}
