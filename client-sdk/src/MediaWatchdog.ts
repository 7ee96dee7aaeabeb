import type { Direction, RtcEngine } from './RtcEngine.js';
import type { SignalClient } from './SignalClient.js';

/** @internal What the watchdog tells its room. */
export interface MediaWatchdogHooks {
	/** Media has been down long enough to tell the user (reconnecting). */
	onLost(): void;
	/** Every transport that carried media is connected again. */
	onRestored(): void;
	/** ICE restarts did not bring media back: the transports must be rebuilt. */
	onGiveUp(): void;
}

/** @internal Timings, in ms. */
export interface MediaWatchdogOptions {
	/** How long a transport may stay 'disconnected' before it counts as lost (Chromium already waited a few seconds without an answer). Default 1000. */
	graceMs?: number;
	/** Time between ICE restarts while media is lost. Default 4000. */
	restartEveryMs?: number;
	/** ICE restarts (with signaling up) before giving up on the transports. Default 3. */
	maxRestarts?: number;
	/**
	 * How long a new transport may try its direct paths (UDP, ICE-TCP) before
	 * the transports are rebuilt relay-only, when the server handed out TURN
	 * servers. 0 turns the fallback off. Default 8000.
	 */
	relayFallbackMs?: number;
}

/**
 * Watches the WebRTC transports while signaling may be fine: a network
 * switch, a VPN toggle or a firewall change breaks the media path without
 * closing the WebSocket. After a short grace period the room is told (it
 * shows 'reconnecting'), ICE is restarted every few seconds, and after a few
 * fruitless restarts the room rebuilds the transports.
 */
export class MediaWatchdog {
	readonly #engine: RtcEngine;
	readonly #signal: SignalClient;
	readonly #hooks: MediaWatchdogHooks;
	readonly #options: Required<MediaWatchdogOptions>;
	#lost = false;
	#lostTimer: ReturnType<typeof setTimeout> | undefined;
	#restartTimer: ReturnType<typeof setTimeout> | undefined;
	#attempts = 0;
	#suspended = false;
	#closed = false;
	#relayTimer: ReturnType<typeof setTimeout> | undefined;
	/** Relay-only was tried once in this session (it is not tried again). */
	#relayTried = false;
	readonly #waiters = new Set<() => void>();

	constructor(engine: RtcEngine, signal: SignalClient, hooks: MediaWatchdogHooks, options: MediaWatchdogOptions = {}) {
		this.#engine = engine;
		this.#signal = signal;
		this.#hooks = hooks;
		this.#options = { graceMs: 1000, restartEveryMs: 4000, maxRestarts: 3, relayFallbackMs: 8000, ...options };
		engine.onConnectionStateChange = () => this.#check();
	}

	/** True while media is considered lost. */
	get lost(): boolean {
		return this.#lost;
	}

	/**
	 * While the room resumes its session over a new signaling connection (it
	 * restarts ICE itself), the watchdog only watches.
	 */
	set suspended(value: boolean) {
		this.#suspended = value;
		if (!value) this.#check();
	}

	/** Resolves true once media is connected, false after `timeoutMs`. */
	whenConnected(timeoutMs: number): Promise<boolean> {
		if (this.#engine.mediaConnected) return Promise.resolve(true);
		return new Promise((resolve) => {
			const done = (ok: boolean): void => {
				clearTimeout(timer);
				this.#waiters.delete(onConnected);
				resolve(ok);
			};
			const onConnected = (): void => done(true);
			const timer = setTimeout(() => done(false), timeoutMs);
			this.#waiters.add(onConnected);
		});
	}

	/** The network may be back (the browser went online): try now rather than at the next tick. */
	kick(): void {
		if (this.#lost) this.#restart();
	}

	/** Forget a loss (the transports were rebuilt). */
	reset(): void {
		this.#lost = false;
		this.#attempts = 0;
		clearTimeout(this.#lostTimer);
		clearTimeout(this.#restartTimer);
		this.#lostTimer = undefined;
		this.#check();
	}

	close(): void {
		this.#closed = true;
		clearTimeout(this.#lostTimer);
		clearTimeout(this.#restartTimer);
		clearTimeout(this.#relayTimer);
		this.#engine.onConnectionStateChange = undefined;
		this.#waiters.clear();
	}

	#check(): void {
		if (this.#closed) return;
		this.#checkDirectPaths();
		const engine = this.#engine;
		if (engine.mediaConnected) {
			clearTimeout(this.#lostTimer);
			clearTimeout(this.#restartTimer);
			this.#lostTimer = undefined;
			this.#attempts = 0;
			for (const waiter of [...this.#waiters]) waiter();
			if (this.#lost) {
				this.#lost = false;
				this.#hooks.onRestored();
			}
			return;
		}
		const states = (['send', 'recv'] as const).map((d) => engine.connectionState(d));
		const failed = states.includes('failed');
		const broken = failed || states.includes('disconnected');
		if (this.#lost || this.#lostTimer || !broken) return;
		this.#lostTimer = setTimeout(
			() => {
				this.#lostTimer = undefined;
				if (this.#closed || this.#engine.mediaConnected) return;
				this.#lost = true;
				this.#hooks.onLost();
				this.#restart();
			},
			failed ? 0 : this.#options.graceMs,
		);
	}

	/**
	 * A transport that never connected, failed or still connecting after
	 * `relayFallbackMs`: its direct paths do not work (UDP and TCP blocked, or
	 * a firewall that passes ICE checks but not DTLS/media). With TURN servers
	 * available, the transports are rebuilt relay-only, once per session; if
	 * relay-only does not connect either, later rebuilds try every path again.
	 */
	#checkDirectPaths(): void {
		clearTimeout(this.#relayTimer);
		this.#relayTimer = undefined;
		const engine = this.#engine;
		if (this.#suspended || !engine.turnAvailable || this.#options.relayFallbackMs <= 0) return;
		const stuck = (['send', 'recv'] as const).flatMap((d) => {
			const since = engine.connectingSince(d);
			return since === undefined ? [] : [{ since, failed: engine.connectionState(d) === 'failed' }];
		});
		if (stuck.length === 0) return;
		const wait = stuck.some((t) => t.failed) ? 0 : Math.min(...stuck.map((t) => t.since)) + this.#options.relayFallbackMs - Date.now();
		if (wait > 0) {
			this.#relayTimer = setTimeout(() => this.#check(), wait);
			return;
		}
		if (engine.relayOnly) {
			engine.relayOnly = false;
			return;
		}
		if (this.#relayTried || !this.#signal.connected) return;
		this.#relayTried = true;
		engine.relayOnly = true;
		this.#hooks.onGiveUp();
	}

	#restart(): void {
		clearTimeout(this.#restartTimer);
		if (this.#closed || !this.#lost) return;
		this.#restartTimer = setTimeout(() => this.#restart(), this.#options.restartEveryMs);
		// Without signaling there is nobody to restart with: the room's resume does it.
		if (this.#suspended || !this.#signal.connected) return;
		if (++this.#attempts > this.#options.maxRestarts) {
			this.#attempts = 0;
			this.#hooks.onGiveUp();
			return;
		}
		for (const direction of this.#unconnected()) this.#engine.restartIce(direction).catch(() => undefined);
	}

	#unconnected(): Direction[] {
		return (['send', 'recv'] as const).filter((d) => {
			const state = this.#engine.connectionState(d);
			return state !== undefined && state !== 'new' && state !== 'connected';
		});
	}
}
