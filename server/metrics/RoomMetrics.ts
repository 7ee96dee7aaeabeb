import type { types } from 'mediasoup';
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import type { Room, RoomRegistry } from '../rooms/index.js';
import { ROLES } from '../protocol/index.js';
import { roomRef } from '../logger/index.js';
import { bounded } from './labels.js';
import type { MediaObjects, TrackedConsumer, TrackedProducer } from './MediaObjects.js';

const PEER_STATES = ['joined', 'waiting', 'disconnected'] as const;
const LEAVE_REASONS = ['left', 'disconnected', 'removed', 'room_ended', 'room_closed', 'expired', 'server_shutdown'] as const;
const ROOM_CLOSE_REASONS = ['ended_by_host', 'server_shutdown', 'closed'] as const;

export interface RoomMetricsOptions {
	/** Per-room series with an opaque `room` label. Default false. */
	roomLabels: boolean;
	/** Key of room references (LOG_ID_KEY), so metrics and logs name a room alike. */
	idKey?: string;
}

/** What producers and consumers both offer for trace events. */
interface TraceSource {
	readonly closed: boolean;
	readonly observer: {
		on(event: 'trace', listener: (trace: { type: string }) => void): unknown;
		off(event: 'trace', listener: (trace: { type: string }) => void): unknown;
	};
	enableTraceEvent(types: 'rtp'[]): Promise<void>;
}

/** A peer that joined and has not shown media yet, per direction. */
interface PendingJoin {
	joinedAt: number;
	/** Waiting for the first RTP sent to the peer. */
	toPeer: boolean;
	/** Waiting for the first RTP received from the peer. */
	fromPeer: boolean;
	/** Objects whose trace events we turned on for this measurement. */
	traced: Set<TrackedProducer | TrackedConsumer>;
}

/**
 * Rooms, peers and join latency. Counts are read from the registry at scrape
 * time; events (opened, joined, left) are counted from the rooms' typed
 * events; join → first media is timed through mediasoup trace events.
 */
export class RoomMetrics {
	readonly #rooms: RoomRegistry;
	readonly #options: RoomMetricsOptions;
	readonly #pending = new Map<string, PendingJoin>();
	readonly #refs = new WeakMap<Room, string>();
	readonly #firstMedia: Histogram<'direction'>;
	readonly #roomSeries: Gauge<'room'>[] = [];
	readonly #onRoomClose: ((room: string) => void)[] = [];

	constructor(registry: Registry, rooms: RoomRegistry, objects: MediaObjects, options: RoomMetricsOptions) {
		this.#rooms = rooms;
		this.#options = options;
		const registers = [registry];
		new Gauge({
			name: 'sfu_rooms',
			help: 'Open rooms on this node.',
			registers,
			collect() {
				this.set(rooms.rooms().length);
			},
		});
		new Gauge({
			name: 'sfu_peers',
			help: 'Peers on this node, by role and state (waiting: in the waiting room; disconnected: in the grace period).',
			labelNames: ['role', 'state'],
			registers,
			collect() {
				this.reset();
				for (const role of ROLES) for (const state of PEER_STATES) this.set({ role, state }, 0);
				for (const room of rooms.rooms()) {
					for (const peer of room.peers()) {
						if (peer.state === 'closed') continue;
						this.inc({ role: bounded(peer.role, ROLES), state: peer.state });
					}
				}
			},
		});
		const opened = new Counter({ name: 'sfu_rooms_opened_total', help: 'Rooms opened on this node.', registers });
		const closed = new Counter({ name: 'sfu_rooms_closed_total', help: 'Rooms closed, by reason.', labelNames: ['reason'], registers });
		const joined = new Counter({ name: 'sfu_peers_joined_total', help: 'Peers admitted into a room (resumes excluded), by role.', labelNames: ['role'], registers });
		const left = new Counter({ name: 'sfu_peers_left_total', help: 'Admitted peers that left, by reason.', labelNames: ['reason'], registers });
		this.#firstMedia = new Histogram({
			name: 'sfu_join_first_media_seconds',
			help: 'From the join being accepted to the first RTP packet the SFU sends to the peer (direction to_peer) or receives from it (from_peer).',
			labelNames: ['direction'],
			buckets: [0.25, 0.5, 1, 1.5, 2, 3, 5, 8, 13, 20, 30],
			registers,
		});
		// Series exist from the start, so dashboards and alerts see zeros, not gaps.
		opened.inc(0);
		for (const role of ROLES) joined.inc({ role }, 0);
		// A histogram first seen with its observations in it would rate() to nothing.
		for (const direction of ['to_peer', 'from_peer']) this.#firstMedia.zero({ direction });

		if (options.roomLabels) this.#registerPerRoom(registry);

		rooms.observer.on('newroom', (room) => {
			opened.inc();
			room.observer.on('peerjoined', (peer) => {
				joined.inc({ role: bounded(peer.role, ROLES) });
				this.#pending.set(peer.id, { joinedAt: performance.now(), toPeer: true, fromPeer: true, traced: new Set() });
			});
			room.observer.on('peerleft', (peer, reason) => {
				left.inc({ reason: bounded(reason, LEAVE_REASONS) });
				this.#settle(peer.id);
			});
			room.observer.once('close', (reason) => {
				closed.inc({ reason: bounded(reason, ROOM_CLOSE_REASONS) });
				for (const peer of room.peers()) this.#settle(peer.id);
				const ref = this.#refs.get(room);
				if (ref) for (const forget of this.#onRoomClose) forget(ref);
			});
		});
		objects.on('consumer', (tracked) => this.#watchFirstMedia(tracked, 'toPeer'));
		objects.on('producer', (tracked) => this.#watchFirstMedia(tracked, 'fromPeer'));
	}

	/** The opaque label of the room a router belongs to (per-room metrics only). */
	roomOf(router: types.Router): string | undefined {
		for (const room of this.#rooms.rooms()) {
			if (room.media.routers.some((r) => r.router === router)) return this.#ref(room);
		}
		return undefined;
	}

	/** Calls `forget(roomLabel)` when a room closes, so per-room series go with it. */
	onRoomClosed(forget: (room: string) => void): void {
		this.#onRoomClose.push(forget);
	}

	#ref(room: Room): string {
		let ref = this.#refs.get(room);
		if (!ref) this.#refs.set(room, (ref = roomRef(room.id, this.#options.idKey)));
		return ref;
	}

	#registerPerRoom(registry: Registry): void {
		const rooms = (): Room[] => this.#rooms.rooms();
		const ref = (room: Room): string => this.#ref(room);
		const perRoom = (name: string, help: string, value: (room: Room) => number): void => {
			this.#roomSeries.push(
				new Gauge({
					name,
					help,
					labelNames: ['room'],
					registers: [registry],
					// prom-client calls collect with the gauge as `this`.
					collect() {
						this.reset();
						for (const room of rooms()) this.set({ room: ref(room) }, value(room));
					},
				}),
			);
		};
		perRoom('sfu_room_peers', 'Peers per room, waiting ones included (opt-in: METRICS_ROOM_LABELS).', (room) => room.peers().length);
		perRoom('sfu_room_producers', 'Producers per room (opt-in: METRICS_ROOM_LABELS).', (room) => room.media.counts().producers);
		perRoom('sfu_room_consumers', 'Consumers per room, pipe consumers included (opt-in: METRICS_ROOM_LABELS).', (room) => room.media.counts().consumers);
	}

	/**
	 * "First media" is the first RTP packet mediasoup reports through a trace
	 * event on one of the peer's consumers (sent to it) or producers (received
	 * from it); tracing is turned off again at once, so it costs a handful of
	 * events per peer.
	 */
	#watchFirstMedia(tracked: TrackedConsumer | TrackedProducer, direction: 'toPeer' | 'fromPeer'): void {
		if (tracked.transportType === 'pipe' || !tracked.peerId) return;
		const peerId = tracked.peerId;
		const pending = this.#pending.get(peerId);
		if (!pending || !pending[direction]) return;
		// Producers and consumers share the trace API; one view of it keeps the types simple.
		const object = tracked.object as unknown as TraceSource;
		pending.traced.add(tracked);
		const onTrace = (trace: { type: string }): void => {
			if (trace.type !== 'rtp') return;
			object.observer.off('trace', onTrace);
			const current = this.#pending.get(peerId);
			if (current !== pending || !pending[direction]) return;
			pending[direction] = false;
			this.#firstMedia.observe({ direction: direction === 'toPeer' ? 'to_peer' : 'from_peer' }, (performance.now() - pending.joinedAt) / 1000);
			this.#stopTracing(pending, direction);
			if (!pending.toPeer && !pending.fromPeer) this.#pending.delete(peerId);
		};
		object.observer.on('trace', onTrace);
		object.enableTraceEvent(['rtp']).catch(() => object.observer.off('trace', onTrace));
	}

	#stopTracing(pending: PendingJoin, direction: 'toPeer' | 'fromPeer'): void {
		for (const tracked of pending.traced) {
			if ((tracked.type === 'consumer') !== (direction === 'toPeer')) continue;
			pending.traced.delete(tracked);
			const object = tracked.object as unknown as TraceSource;
			if (!object.closed) object.enableTraceEvent([]).catch(() => undefined);
		}
	}

	#settle(peerId: string): void {
		const pending = this.#pending.get(peerId);
		if (!pending) return;
		this.#pending.delete(peerId);
		this.#stopTracing(pending, 'toPeer');
		this.#stopTracing(pending, 'fromPeer');
	}
}
