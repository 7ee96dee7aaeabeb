/** Event name → listener argument tuple. */
export type EventMap = { [event: string]: unknown[] };

type Listener<A extends unknown[]> = (...args: A) => void;

/**
 * A tiny typed event emitter (no Node `events` dependency in the browser).
 * A listener that throws does not stop the others nor corrupt the emitter's
 * owner: the error is rethrown asynchronously, where the page's error
 * handling sees it.
 */
export class TypedEmitter<E extends EventMap> {
	readonly #listeners = new Map<keyof E, Set<Listener<never>>>();

	/** Calls `listener` on every `event`. */
	on<K extends keyof E>(event: K, listener: Listener<E[K]>): this {
		let set = this.#listeners.get(event);
		if (!set) {
			set = new Set();
			this.#listeners.set(event, set);
		}
		set.add(listener);
		return this;
	}

	/** Calls `listener` on the next `event` only. */
	once<K extends keyof E>(event: K, listener: Listener<E[K]>): this {
		const wrapper: Listener<E[K]> = (...args) => {
			this.off(event, wrapper);
			listener(...args);
		};
		return this.on(event, wrapper);
	}

	/** Removes `listener` (or every listener of `event` when omitted). */
	off<K extends keyof E>(event: K, listener?: Listener<E[K]>): this {
		if (!listener) this.#listeners.delete(event);
		else this.#listeners.get(event)?.delete(listener);
		return this;
	}

	/** Removes every listener of every event. */
	removeAllListeners(): this {
		this.#listeners.clear();
		return this;
	}

	/** Number of listeners of `event`. */
	listenerCount(event: keyof E): number {
		return this.#listeners.get(event)?.size ?? 0;
	}

	/** @internal Calls the listeners of `event` synchronously, in order. */
	emit<K extends keyof E>(event: K, ...args: E[K]): boolean {
		const set = this.#listeners.get(event);
		if (!set || set.size === 0) return false;
		for (const listener of [...set]) {
			try {
				(listener as Listener<E[K]>)(...args);
			} catch (error) {
				queueMicrotask(() => {
					throw error;
				});
			}
		}
		return true;
	}
}
