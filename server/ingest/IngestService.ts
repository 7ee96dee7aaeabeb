import { EventEmitter } from 'node:events';
import { randomUUID } from 'node:crypto';
import { SfuError, type IngestEndpointInfo } from '../protocol/index.js';
import type { Logger } from '../logger/index.js';
import { NO_CHANNEL, type Peer, type Room } from '../rooms/index.js';
import { EgressPolicy } from './EgressPolicy.js';
import { ingestInput } from './ingestInput.js';
import { IngestWatchdog } from './IngestWatchdog.js';
import { PullIngest, type PullIngestStatus } from './PullIngest.js';
import { ingestSdp } from './senderSdp.js';
import { parseSourceAddress } from './sourceAddress.js';
import { parseSource } from './sourceUrl.js';

export interface IngestServiceOptions {
	ffmpeg: string | null;
	ffprobe: string | null;
	/** Local files may be pulled only from under this folder; unset disables file sources. */
	fileRoot?: string;
	maxSourcesPerRoom: number;
	/**
	 * Private, loopback, link-local… destinations pulled sources may reach
	 * anyway (`INGEST_ALLOWED_HOSTS`: hostnames, `*.suffix`, addresses, CIDRs).
	 * Default: none — only public addresses.
	 */
	allowedHosts?: readonly string[];
	/** Where push-ingest endpoints listen and what address devices are told. */
	listenIp: string;
	announcedIp?: string;
	logger: Logger;
}

export type IngestServiceEvents = {
	statechange: [roomId: string, status: PullIngestStatus];
};


/**
 * Device streams of this node: push endpoints for device participants, and
 * pulled sources (each a server-side `device` participant fed by ffmpeg).
 */
export class IngestService extends EventEmitter<IngestServiceEvents> {
	readonly #options: IngestServiceOptions;
	readonly #pulls = new Map<string, { ingest: PullIngest; room: Room; peer: Peer }>();
	readonly #watchdogs = new Map<Peer, IngestWatchdog>();
	readonly #policy: EgressPolicy;

	constructor(options: IngestServiceOptions) {
		super();
		this.#options = options;
		this.#policy = new EgressPolicy({ allowed: options.allowedHosts ?? [] });
	}

	/**
	 * Push ingest for a joined peer (its role is checked by the peer): SRTP
	 * unless `srtp: false`; with `sourceAddress`, only that sender is heard.
	 */
	async createEndpoint(peer: Peer, request: { kinds?: ('audio' | 'video')[]; srtp?: boolean; sourceAddress?: string }): Promise<IngestEndpointInfo> {
		const kinds: ('audio' | 'video')[] = [...new Set(request.kinds ?? ['video' as const])];
		const source = request.sourceAddress !== undefined ? parseSourceAddress(request.sourceAddress) : undefined;
		const endpoint = await peer.createIngest(
			ingestInput(kinds, {
				listenIp: this.#options.listenIp,
				...(this.#options.announcedIp ? { announcedIp: this.#options.announcedIp } : {}),
				srtp: request.srtp ?? true,
				...(source ? { source } : {}),
			}),
		);
		this.#watch(peer);
		this.#options.logger.info({ peerId: peer.id, kinds, srtp: Boolean(endpoint.srtp), pinned: source ? (source.port !== undefined ? 'address' : 'ip') : 'none' }, 'push ingest endpoint opened');
		const sourceAddress = source ? (source.port !== undefined ? `${source.ip.includes(':') ? `[${source.ip}]` : source.ip}:${source.port}` : source.ip) : undefined;
		return { ...endpoint, ...(sourceAddress ? { sourceAddress } : {}), sdp: ingestSdp(endpoint) };
	}

	/**
	 * Starts pulling a source into the room as a new device participant.
	 * A network source's host is checked first (`source_forbidden`,
	 * `source_unreachable`), and again on every attempt and connection.
	 */
	async addSource(room: Room, request: { url: string; name?: string }): Promise<PullIngestStatus> {
		const { ffmpeg, ffprobe } = this.#options;
		if (!ffmpeg || !ffprobe) throw new SfuError('unavailable', 'pull ingest needs ffmpeg, which this server does not have');
		const source = parseSource(request.url, this.#options.fileRoot);
		if (source.host) await this.#policy.check(source.host);
		if (this.list(room.id).length >= this.#options.maxSourcesPerRoom) {
			throw new SfuError('limit_exceeded', `at most ${this.#options.maxSourcesPerRoom} ingest sources per room`);
		}
		const id = randomUUID();
		const name = request.name ?? `Device ${this.list(room.id).length + 1}`;
		const { peer } = await room.join({ sub: `ingest:${id}`, role: 'device', displayName: name }, NO_CHANNEL, {});
		const ingest = new PullIngest({ id, name, source, peer, ffmpeg, ffprobe, policy: this.#policy, logger: this.#options.logger.child({ ingestId: id, roomId: room.id }) });
		this.#watch(peer);
		this.#pulls.set(id, { ingest, room, peer });
		ingest.on('state', (status) => {
			if (!room.closed) room.broadcast('ingestState', status);
			this.emit('statechange', room.id, status);
		});
		room.observer.once('close', () => this.#stop(id));
		ingest.start();
		return ingest.status;
	}

	removeSource(room: Room, ingestId: string): void {
		const entry = this.#pulls.get(ingestId);
		if (!entry || entry.room !== room) throw new SfuError('not_found', 'no such ingest source in this room');
		this.#stop(ingestId);
	}

	list(roomId: string): PullIngestStatus[] {
		return [...this.#pulls.values()].filter((e) => e.room.id === roomId).map((e) => e.ingest.status);
	}

	/** The running pull ingest (diagnostics and tests). */
	get(ingestId: string): PullIngest | undefined {
		return this.#pulls.get(ingestId)?.ingest;
	}

	all(): PullIngestStatus[] {
		return [...this.#pulls.values()].map((e) => e.ingest.status);
	}

	close(): void {
		for (const id of [...this.#pulls.keys()]) this.#stop(id);
		for (const watchdog of [...this.#watchdogs.values()]) watchdog.close();
	}

	#watch(peer: Peer): void {
		if (this.#watchdogs.has(peer)) return;
		this.#watchdogs.set(peer, new IngestWatchdog(peer, { logger: this.#options.logger, onClose: () => this.#watchdogs.delete(peer) }));
	}

	#stop(ingestId: string): void {
		const entry = this.#pulls.get(ingestId);
		if (!entry) return;
		this.#pulls.delete(ingestId);
		entry.ingest.close();
		if (!entry.room.closed) entry.room.remove(entry.peer, 'left');
	}
}
