import { EventEmitter } from 'node:events';
import { types } from 'mediasoup';
import { SOURCES } from '../protocol/index.js';
import { bounded, MEDIA_KINDS } from './labels.js';

export type TransportType = 'webrtc' | 'plain' | 'pipe' | 'direct';

/** A worker as the tracker sees it (the pool's workers fit). */
export interface TrackedWorkerLike {
	readonly pid: number;
	readonly observer: types.Worker['observer'];
}

interface TrackedBase {
	/** Slot of the worker that holds the object (a bounded label). */
	worker: string;
	router: types.Router;
	transportType: TransportType;
}

export interface TrackedTransport extends TrackedBase {
	type: 'transport';
	object: types.Transport;
}

export interface TrackedProducer extends TrackedBase {
	type: 'producer';
	object: types.Producer;
	kind: 'audio' | 'video' | 'other';
	source: (typeof SOURCES)[number] | 'other';
	/** RTP clock rate of the first codec, to turn jitter into seconds. */
	clockRate: number;
	/** The peer that publishes it, when known (appData.peerId); never a label. */
	peerId: string | undefined;
}

export interface TrackedConsumer extends TrackedBase {
	type: 'consumer';
	object: types.Consumer;
	kind: 'audio' | 'video' | 'other';
	source: (typeof SOURCES)[number] | 'other';
	/** The consuming peer, when known (appData.peerId); never a label. */
	peerId: string | undefined;
}

export type TrackedObject = TrackedTransport | TrackedProducer | TrackedConsumer;

export type MediaObjectsEvents = {
	producer: [tracked: TrackedProducer];
	consumer: [tracked: TrackedConsumer];
};

function transportTypeOf(transport: types.Transport): TransportType {
	if (transport instanceof types.WebRtcTransport) return 'webrtc';
	if (transport instanceof types.PlainTransport) return 'plain';
	if (transport instanceof types.PipeTransport) return 'pipe';
	return 'direct';
}

function stringField(appData: unknown, key: string): string | undefined {
	const value = (appData as Record<string, unknown> | undefined)?.[key];
	return typeof value === 'string' ? value : undefined;
}

/**
 * Every live transport, producer and consumer of the followed workers, found
 * through mediasoup's observer events only: business code neither knows nor
 * calls it, and closed objects leave on their own `close`.
 */
export class MediaObjects extends EventEmitter<MediaObjectsEvents> {
	/** Insertion order doubles as the sampling queue: sampled objects move to the back. */
	readonly objects = new Map<object, TrackedObject>();
	readonly #followed = new WeakSet<object>();

	/** Starts following a worker (its routers from now on). */
	follow(worker: TrackedWorkerLike, slot: number): void {
		if (this.#followed.has(worker)) return;
		this.#followed.add(worker);
		const label = String(slot);
		worker.observer.on('newrouter', (router) => {
			router.observer.on('newtransport', (transport) => this.#onTransport(transport, router, label));
		});
	}

	/** Counts of live objects, grouped by a key. */
	count<T extends TrackedObject['type']>(type: T, key: (tracked: Extract<TrackedObject, { type: T }>) => string): Map<string, number> {
		const counts = new Map<string, number>();
		for (const tracked of this.objects.values()) {
			if (tracked.type !== type) continue;
			const k = key(tracked as Extract<TrackedObject, { type: T }>);
			counts.set(k, (counts.get(k) ?? 0) + 1);
		}
		return counts;
	}

	/** Moves an object to the back of the sampling queue. */
	requeue(tracked: TrackedObject): void {
		if (this.objects.delete(tracked.object)) this.objects.set(tracked.object, tracked);
	}

	#onTransport(transport: types.Transport, router: types.Router, worker: string): void {
		const transportType = transportTypeOf(transport);
		this.#add({ type: 'transport', object: transport, worker, router, transportType }, transport.observer);
		transport.observer.on('newproducer', (producer) => {
			const tracked: TrackedProducer = {
				type: 'producer',
				object: producer,
				worker,
				router,
				transportType,
				kind: bounded(producer.kind, MEDIA_KINDS),
				source: bounded(stringField(producer.appData, 'source'), SOURCES),
				clockRate: producer.rtpParameters.codecs[0]?.clockRate ?? 90_000,
				peerId: stringField(producer.appData, 'peerId'),
			};
			this.#add(tracked, producer.observer);
			this.emit('producer', tracked);
		});
		transport.observer.on('newconsumer', (consumer) => {
			const tracked: TrackedConsumer = {
				type: 'consumer',
				object: consumer,
				worker,
				router,
				transportType,
				kind: bounded(consumer.kind, MEDIA_KINDS),
				source: bounded(stringField(consumer.appData, 'source'), SOURCES),
				peerId: stringField(consumer.appData, 'peerId'),
			};
			this.#add(tracked, consumer.observer);
			this.emit('consumer', tracked);
		});
	}

	#add(tracked: TrackedObject, observer: { once(event: 'close', listener: () => void): unknown }): void {
		this.objects.set(tracked.object, tracked);
		observer.once('close', () => this.objects.delete(tracked.object));
	}
}
