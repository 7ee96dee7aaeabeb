import type { Role } from '../protocol/index.js';

/** How often a broadcast room tells presenters its audience size, at most. */
const AUDIENCE_INTERVAL_MS = 2000;

/**
 * The viewers of a broadcast room (grand rounds). Hundreds of them come and
 * go: announcing each one to everyone would be a notification storm growing
 * with the square of the audience, so viewers are silent and presenters get
 * one `audience` count per interval instead.
 */
export class Audience {
	readonly #broadcast: boolean;
	readonly #count: () => number;
	readonly #tell: (viewers: number) => void;
	#timer: NodeJS.Timeout | null = null;
	#closed = false;

	/**
	 * @param broadcast Whether the room is a broadcast room (else nobody is silent).
	 * @param count Viewers present now.
	 * @param tell Sends the count to the presenters.
	 */
	constructor(broadcast: boolean, count: () => number, tell: (viewers: number) => void) {
		this.#broadcast = broadcast;
		this.#count = count;
		this.#tell = tell;
	}

	/** Viewers of a broadcast come and go without a roster notification each. */
	isSilent(peer: { role: Role }): boolean {
		return this.#broadcast && peer.role === 'observer';
	}

	/** A viewer came or went: one `audience` notification per interval. */
	changed(): void {
		if (this.#timer || this.#closed) return;
		this.#timer = setTimeout(() => {
			this.#timer = null;
			if (!this.#closed) this.#tell(this.#count());
		}, AUDIENCE_INTERVAL_MS);
	}

	close(): void {
		this.#closed = true;
		if (this.#timer) clearTimeout(this.#timer);
		this.#timer = null;
	}
}
