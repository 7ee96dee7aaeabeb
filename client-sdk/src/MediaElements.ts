/**
 * The media elements one track is attached to. Starting playback may be
 * refused by the browser's autoplay policy; that is reported through
 * `onPlaybackBlocked` instead of an unhandled rejection.
 */
export class MediaElements {
	readonly #elements = new Set<HTMLMediaElement>();
	readonly #onPlaybackBlocked: ((element: HTMLMediaElement) => void) | undefined;

	constructor(onPlaybackBlocked?: (element: HTMLMediaElement) => void) {
		this.#onPlaybackBlocked = onPlaybackBlocked;
	}

	/** The elements currently showing the track. */
	get elements(): HTMLMediaElement[] {
		return [...this.#elements];
	}

	attach(track: MediaStreamTrack, element: HTMLMediaElement): HTMLMediaElement {
		const current = element.srcObject;
		if (current instanceof MediaStream && current.getTracks().length === 1 && current.getTracks()[0] === track) {
			this.#elements.add(element);
			return element;
		}
		element.autoplay = true;
		if (element instanceof HTMLVideoElement) element.playsInline = true;
		element.srcObject = new MediaStream([track]);
		this.#elements.add(element);
		void this.play(element);
		return element;
	}

	detach(element?: HTMLMediaElement): HTMLMediaElement[] {
		const targets = element ? [element] : [...this.#elements];
		for (const el of targets) {
			if (!this.#elements.delete(el)) continue;
			el.srcObject = null;
		}
		return targets;
	}

	/** Starts (or retries) playback; resolves true when playing. */
	play(element: HTMLMediaElement): Promise<boolean> {
		return element.play().then(
			() => true,
			(error: unknown) => {
				// AbortError: a newer srcObject replaced this one; not a refusal.
				if ((error as { name?: string }).name === 'NotAllowedError') this.#onPlaybackBlocked?.(element);
				return false;
			},
		);
	}
}
