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
 */
export class IngestWatchdog {
	readonly #peer: Peer;
	readonly #options: IngestWatchdogOptions;
	readonly #timer: NodeJS.Timeout;
	/** Bytes seen per producer and when they last grew. */
	readonly #seen = new Map<string, { bytes: number; at: number }>();
	#busy = false;
	#closed = false;

	constructor(peer: Peer, options: IngestWatchdogOptions) {
		this.#peer = peer;
		this.#options = options;
		this.#timer = setInterval(() => void this.#check(), options.intervalMs ?? 1000);
		this.#timer.unref();
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
				const bytes = (await producer.getStats()).reduce((sum, s) => sum + s.byteCount, 0);
				const seen = this.#seen.get(producer.id);
				if (!seen || bytes > seen.bytes) {
					this.#seen.set(producer.id, { bytes, at: now });
					continue;
				}
				if (stream.senderKnown && now - seen.at > (this.#options.silenceMs ?? 3000)) {
					this.#seen.delete(producer.id);
					const fresh = await this.#peer.rebindIngest(producer.id);
					this.#options.logger.info({ peerId: this.#peer.id, kind: producer.kind, port: stream.spec.port, producerId: fresh.id }, 'ingest stream silent: reopened for a restarted sender');
				}
			}
		} catch (error) {
			this.#options.logger.warn({ err: error, peerId: this.#peer.id }, 'ingest watchdog check failed');
		} finally {
			this.#busy = false;
		}
	}
}
