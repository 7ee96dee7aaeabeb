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
	/**
	 * Media stopped and the signaling connection did not answer an ICE restart
	 * in time either: it is most likely dead too (bound to an address the
	 * device lost); reopen it now rather than after Socket.IO's ping timeout.
	 */
	onSignalDead(): void;
	/** True while this participant publishes at least one unmuted track (the server then always answers with RTCP). */
	sending(): boolean;
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
	/**
	 * How long every transport that was carrying media may receive nothing
	 * before media counts as lost, while ICE may still call it connected (a
	 * network switch: Chromium notices only after 5–7 s). Default 1200.
	 */
	stallMs?: number;
	/**
	 * How long an ICE restart request may go unanswered, once media stalled,
	 * before the signaling connection counts as dead too and is reopened.
	 * Default 1500.
	 */
	signalProbeTimeoutMs?: number;
}

/** How often the watchdog reads the transports' received bytes, ms. */
const POLL_MS = 400;
/** A transport counts as carrying media if it received something within this long, ms. */
const RECENT_MS = 6000;

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
	/** Per direction: the transport, its byte counters, and when they last grew. */
	readonly #flow: Partial<Record<Direction, { transportId: string; received: number; grewAt: number }>> = {};
	/** Directions whose media stopped while ICE still said connected (empty: none). */
	readonly #stalled = new Set<Direction>();
	readonly #pollTimer: ReturnType<typeof setInterval>;
	#polling = false;

	constructor(engine: RtcEngine, signal: SignalClient, hooks: MediaWatchdogHooks, options: MediaWatchdogOptions = {}) {
		this.#engine = engine;
		this.#signal = signal;
		this.#hooks = hooks;
		this.#options = { graceMs: 1000, restartEveryMs: 4000, maxRestarts: 3, relayFallbackMs: 8000, stallMs: 1200, signalProbeTimeoutMs: 1500, ...options };
		engine.onConnectionStateChange = () => this.#check();
		this.#pollTimer = setInterval(() => void this.#poll(), POLL_MS);
	}

	/** True while every transport that carried media is connected and receiving. */
	get #flowing(): boolean {
		return this.#engine.mediaConnected && this.#stalled.size === 0;
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
		if (this.#flowing) return Promise.resolve(true);
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
		this.#stalled.clear();
		this.#attempts = 0;
		clearTimeout(this.#lostTimer);
		clearTimeout(this.#restartTimer);
		this.#lostTimer = undefined;
		this.#check();
	}

	close(): void {
		this.#closed = true;
		clearInterval(this.#pollTimer);
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
		if (this.#flowing) {
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
				if (this.#closed || this.#flowing) return;
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
		const stalled = this.#stalled.size > 0;
		for (const direction of this.#unconnected()) {
			// After a stall, an unanswered restart says the signaling connection is gone too.
			this.#engine.restartIce(direction, stalled ? this.#options.signalProbeTimeoutMs : undefined).catch((error: unknown) => {
				if (stalled && (error as { code?: string }).code === 'request_timeout' && !this.#closed && !this.#suspended && this.#lost) this.#hooks.onSignalDead();
			});
		}
	}

	#unconnected(): Direction[] {
		return (['send', 'recv'] as const).filter((d) => {
			const state = this.#engine.connectionState(d);
			return this.#stalled.has(d) || (state !== undefined && state !== 'new' && state !== 'connected');
		});
	}

	/**
	 * Reads what each connected transport received. Media is lost when this
	 * browser publishes but, for `stallMs`, no transport that
	 * was carrying media receives anything (not even the server's RTCP
	 * feedback on what it sends): a network switch or an outage, which ICE
	 * reports only seconds later. It is restored once they receive again.
	 * A participant that sends nothing is left to ICE's own timeouts (nothing
	 * tells silence from a dead path there).
	 */
	async #poll(): Promise<void> {
		if (this.#closed || this.#polling) return;
		this.#polling = true;
		try {
			const now = Date.now();
			const readings = await Promise.all((['send', 'recv'] as const).map(async (d) => [d, await this.#engine.bytesReceived(d).catch(() => undefined)] as const));
			if (this.#closed) return;
			for (const [direction, reading] of readings) {
				const previous = this.#flow[direction];
				if (!reading) {
					delete this.#flow[direction];
					this.#stalled.delete(direction);
					continue;
				}
				const same = previous?.transportId === reading.transportId;
				const grew = !same || reading.received > previous.received;
				this.#flow[direction] = {
					transportId: reading.transportId,
					received: reading.received,
					grewAt: grew ? now : previous.grewAt,
				};
				if (grew) this.#stalled.delete(direction);
			}
			if (this.#stalled.size === 0 && !this.#suspended && this.#flow.send && this.#hooks.sending()) {
				const carrying = (['send', 'recv'] as const).filter((d) => {
					const flow = this.#flow[d];
					return flow && now - flow.grewAt < RECENT_MS;
				});
				if (carrying.includes('send') && carrying.every((d) => now - this.#flow[d]!.grewAt >= this.#options.stallMs)) {
					for (const d of carrying) this.#stalled.add(d);
					if (!this.#lost) {
						this.#lost = true;
						clearTimeout(this.#lostTimer);
						this.#lostTimer = undefined;
						this.#hooks.onLost();
					}
					this.#attempts = 0;
					this.#restart();
					return;
				}
			}
			if (this.#lost && this.#flowing) this.#check();
		} finally {
			this.#polling = false;
		}
	}
}
