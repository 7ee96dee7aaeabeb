import type { Logger } from '../logger/index.js';
import type { Peer } from '../rooms/index.js';

export interface IngestWatchdogOptions {
	/** Silence after which a stream whose sender is known is reopened. Default 3000 ms. */
	silenceMs?: number;
	/** Check period. Default 1000 ms. */
	intervalMs?: number;
	/** Called once when the watchdog stops (its peer left, or close()). */
	onClose?: () => void;
	logger: Logger;
}

/**
 * Keeps a device peer's push-ingest streams listening for a restarted
 * encoder: mediasoup's comedia transport locks onto the first sender's
 * address and ignores a new one, so a stream that went silent after its
 * sender was known is reopened on the same port. Devices need no reconfiguring.
 * Who may win that race is the stream's business: with SRTP only a sender with
 * the key, with a pinned `ip:port` nobody else at all. A stream pinned to an IP
 * only is reopened at once when another address is learnt (a stray sender).
 */
export class IngestWatchdog {
	readonly #peer: Peer;
	readonly #options: IngestWatchdogOptions;
	readonly #timer: NodeJS.Timeout;
	/** Bytes seen per producer and when they last grew. */
	readonly #seen = new Map<string, { bytes: number; at: number }>();
	/** Transports whose learnt sender is checked as soon as it is learnt. */
	readonly #guarded = new WeakSet<object>();
	#busy = false;
	#closed = false;

	constructor(peer: Peer, options: IngestWatchdogOptions) {
		this.#peer = peer;
		this.#options = options;
		this.#timer = setInterval(() => void this.#check(), options.intervalMs ?? 1000);
		this.#timer.unref();
		if (peer.hasMedia) for (const producerId of peer.media.producers.keys()) this.#guard(producerId);
	}

	close(): void {
		if (this.#closed) return;
		this.#closed = true;
		clearInterval(this.#timer);
		this.#options.onClose?.();
	}

	async #check(): Promise<void> {
		if (this.#busy) return;
		if (this.#peer.state === 'closed' || !this.#peer.hasMedia) {
			this.close();
			return;
		}
		this.#busy = true;
		try {
			const now = Date.now();
			for (const producer of [...this.#peer.media.producers.values()]) {
				const stream = this.#peer.media.ingestOf(producer.id);
				if (!stream || producer.closed) continue;
				this.#guard(producer.id);
				if (stream.strayFrom) {
					await this.#evict(producer.id, stream.strayFrom);
					continue;
				}
				const bytes = (await producer.getStats()).reduce((sum, s) => sum + s.byteCount, 0);
				const seen = this.#seen.get(producer.id);
				if (!seen || bytes > seen.bytes) {
					this.#seen.set(producer.id, { bytes, at: now });
					continue;
				}
				if (stream.senderKnown && now - seen.at > (this.#options.silenceMs ?? 3000)) {
					this.#seen.delete(producer.id);
					const fresh = await this.#peer.rebindIngest(producer.id);
					this.#guard(fresh.id);
					this.#options.logger.info({ peerId: this.#peer.id, kind: producer.kind, port: stream.spec.port, producerId: fresh.id }, 'ingest stream silent: reopened for a restarted sender');
				}
			}
		} catch (error) {
			this.#options.logger.warn({ err: error, peerId: this.#peer.id }, 'ingest watchdog check failed');
		} finally {
			this.#busy = false;
		}
	}

	/** For a stream pinned to an IP only: check each sender the moment mediasoup learns it. */
	#guard(producerId: string): void {
		const stream = this.#peer.hasMedia ? this.#peer.media.ingestOf(producerId) : undefined;
		if (!stream?.spec.input.source || stream.spec.input.source.port !== undefined || this.#guarded.has(stream.transport)) return;
		this.#guarded.add(stream.transport);
		stream.transport.observer.on('tuple', () => {
			// A busy check reaches this stream within a period anyway.
			if (this.#busy || this.#closed || !stream.strayFrom) return;
			this.#busy = true;
			void this.#evict(producerId, stream.strayFrom).finally(() => (this.#busy = false));
		});
	}

	/** Reopens a stream that learnt the wrong sender, so the pinned one can still be heard. */
	async #evict(producerId: string, from: string): Promise<void> {
		try {
			const fresh = await this.#peer.rebindIngest(producerId);
			this.#seen.delete(producerId);
			this.#guard(fresh.id);
			this.#options.logger.warn({ peerId: this.#peer.id, kind: fresh.kind, from }, 'ingest stream: a sender from another address than the pinned one was thrown off');
		} catch (error) {
			this.#options.logger.warn({ err: error, peerId: this.#peer.id }, 'ingest stream: could not reopen after a stray sender');
		}
	}
}
