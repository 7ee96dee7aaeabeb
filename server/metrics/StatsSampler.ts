import { types } from 'mediasoup';
import type { MediaObjects, TrackedConsumer, TrackedObject, TrackedProducer, TrackedTransport } from './MediaObjects.js';

/** The fields of mediasoup's transport stats the sampler reads. */
export interface TransportStatsSample {
	bytesReceived: number;
	bytesSent: number;
	availableOutgoingBitrate?: number;
}

/** The fields of mediasoup's RTP stream stats (inbound-rtp and outbound-rtp) the sampler reads. */
export interface RtpStreamSample {
	type: string;
	ssrc: number;
	kind: string;
	packetCount: number;
	byteCount: number;
	packetsLost: number;
	nackCount: number;
	pliCount: number;
	firCount: number;
	score: number;
	/** ms; absent until RTCP gave one. */
	roundTripTime?: number;
	/** RTP timestamp units; inbound streams only. */
	jitter?: number;
}

/** Where samples go (the RTP metrics, or a benchmark's counter). */
export interface StatsSink {
	transport(tracked: TrackedTransport, stats: TransportStatsSample): void;
	/** Inbound streams of a producer (one per simulcast layer). */
	producer(tracked: TrackedProducer, streams: RtpStreamSample[]): void;
	/** Outbound streams of a consumer. */
	consumer(tracked: TrackedConsumer, streams: RtpStreamSample[]): void;
	/** One pass is over. */
	tick(report: SamplerTick): void;
}

export interface SamplerTick {
	/** Wall time of the pass, ms. */
	durationMs: number;
	sampled: number;
	/** Calls that failed for another reason than the object closing meanwhile. */
	errors: number;
	/** Objects that wait for a later pass because of `maxObjectsPerTick`. */
	deferred: number;
}

export interface StatsSamplerOptions {
	/** Time between the starts of two passes, ms. */
	intervalMs: number;
	/** Most getStats() calls in one pass; the rest wait for the next pass (round-robin). */
	maxObjectsPerTick: number;
	/** getStats() calls in flight at once, so a pass never floods a worker's channel. Default 4. */
	concurrency?: number;
}

/**
 * Samples mediasoup's getStats() of every WebRTC/plain transport, producer and
 * consumer at an interval, with bounded cost: at most `maxObjectsPerTick`
 * calls per pass, `concurrency` at a time, passes never overlap, and objects
 * left over wait at the front of the queue for the next pass. Pipe
 * producers and consumers (a router-to-router hop inside this node) are not
 * RTP-sampled: their streams are already counted where they enter and leave.
 */
export class StatsSampler {
	readonly #objects: MediaObjects;
	readonly #sink: StatsSink;
	readonly #options: Required<StatsSamplerOptions>;
	#timer: NodeJS.Timeout | null = null;
	#running: Promise<void> | null = null;
	#closed = false;

	constructor(objects: MediaObjects, sink: StatsSink, options: StatsSamplerOptions) {
		this.#objects = objects;
		this.#sink = sink;
		this.#options = { concurrency: 4, ...options };
	}

	/** Starts passes every `intervalMs` (the first after one interval). */
	start(): void {
		if (this.#closed || this.#timer || this.#options.intervalMs <= 0) return;
		this.#schedule(this.#options.intervalMs);
	}

	/** One pass now (tests and the benchmark drive it directly). Concurrent calls share the pass. */
	sampleOnce(): Promise<void> {
		this.#running ??= this.#pass().finally(() => {
			this.#running = null;
		});
		return this.#running;
	}

	/** Stops; a pass under way finishes. Idempotent. */
	close(): void {
		this.#closed = true;
		if (this.#timer) clearTimeout(this.#timer);
		this.#timer = null;
	}

	#schedule(delayMs: number): void {
		this.#timer = setTimeout(() => {
			this.#timer = null;
			const startedAt = Date.now();
			void this.sampleOnce().finally(() => {
				if (!this.#closed) this.#schedule(Math.max(0, this.#options.intervalMs - (Date.now() - startedAt)));
			});
		}, delayMs);
		this.#timer.unref();
	}

	async #pass(): Promise<void> {
		const startedAt = performance.now();
		const batch: TrackedObject[] = [];
		let eligible = 0;
		for (const tracked of this.#objects.objects.values()) {
			if (!sampled(tracked)) continue;
			eligible += 1;
			if (batch.length < this.#options.maxObjectsPerTick) batch.push(tracked);
		}
		// Sampled objects go to the back: the next pass starts with those left over.
		for (const tracked of batch) this.#objects.requeue(tracked);
		let next = 0;
		let errors = 0;
		const lane = async (): Promise<void> => {
			while (next < batch.length && !this.#closed) {
				const tracked = batch[next++]!;
				try {
					await this.#sampleOne(tracked);
				} catch (error) {
					// A close racing the request is normal; anything else is worth counting.
					if (!(error instanceof types.InvalidStateError) && !tracked.object.closed) errors += 1;
				}
			}
		};
		await Promise.all(Array.from({ length: Math.min(this.#options.concurrency, batch.length) }, lane));
		this.#sink.tick({ durationMs: performance.now() - startedAt, sampled: batch.length, errors, deferred: eligible - batch.length });
	}

	async #sampleOne(tracked: TrackedObject): Promise<void> {
		if (tracked.object.closed) return;
		switch (tracked.type) {
			case 'transport': {
				const [stats] = (await tracked.object.getStats()) as unknown as TransportStatsSample[];
				if (stats) this.#sink.transport(tracked, stats);
				return;
			}
			case 'producer': {
				const streams = (await tracked.object.getStats()) as unknown as RtpStreamSample[];
				this.#sink.producer(tracked, streams.filter((s) => s.type === 'inbound-rtp'));
				return;
			}
			case 'consumer': {
				// A consumer's stats also hold the producer's inbound stream: keep only its own.
				const streams = (await tracked.object.getStats()) as unknown as RtpStreamSample[];
				this.#sink.consumer(tracked, streams.filter((s) => s.type === 'outbound-rtp'));
				return;
			}
		}
	}
}

function sampled(tracked: TrackedObject): boolean {
	if (tracked.transportType === 'direct') return false;
	return tracked.type === 'transport' || tracked.transportType !== 'pipe';
}
