import { EventEmitter } from 'node:events';

export type RecorderSlotsEvents = {
	/** A slot was given back: recordings may retry participants they could not record. */
	release: [];
};

/**
 * The node-wide cap on recorder ffmpeg processes (RECORDING_MAX_FFMPEG): each
 * recorded participant holds one slot while it is recorded, whichever
 * recording it belongs to, so a busy node refuses more instead of starving
 * every recorder of CPU.
 */
export class RecorderSlots extends EventEmitter<RecorderSlotsEvents> {
	readonly max: number;
	#inUse = 0;

	constructor(max: number) {
		super();
		this.max = max;
		// One listener per active recording.
		this.setMaxListeners(0);
	}

	get inUse(): number {
		return this.#inUse;
	}

	get available(): number {
		return Math.max(0, this.max - this.#inUse);
	}

	/** Takes a slot; false when every one is taken. */
	tryAcquire(): boolean {
		if (this.#inUse >= this.max) return false;
		this.#inUse += 1;
		return true;
	}

	/** Gives a slot back; `quiet`: nobody is told (it never ran anything). */
	release(options: { quiet?: boolean } = {}): void {
		if (this.#inUse === 0) return;
		this.#inUse -= 1;
		if (!options.quiet) this.emit('release');
	}
}
