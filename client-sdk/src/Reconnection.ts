import type { JoinOutcome } from './MediaSession.js';
import type { RoomSession } from './RoomSession.js';
import { ConnectionState, ReconnectReason, type ReconnectedInfo } from './RoomEvent.js';
import { SdkError } from './SdkError.js';

/** @internal What the reconnection logic needs from its room. */
export interface ReconnectionHost {
	/** Time (in ms) to keep trying before the room ends. */
	readonly reconnectTimeoutMs: number;
	/** Time (in ms) to wait for media after signaling is back, before rebuilding the transports. */
	readonly mediaReconnectTimeoutMs: number;
	ended(): boolean;
	state(): ConnectionState;
	session(): RoomSession | undefined;
	/** Sends `join` (resume) and applies the outcome (e.g. back in the waiting room). */
	join(options: { freshTransports?: boolean }): Promise<JoinOutcome>;
	/** Enter the reconnecting state and tell the application. */
	reconnecting(reason: ReconnectReason): void;
	/** Back to connected; tell the application (`info` undefined: nothing had been announced). */
	reconnected(info: ReconnectedInfo | undefined): void;
	/** Give up: the room ends with `reconnect_failed`. */
	fail(error: SdkError): void;
}

/**
 * How a room comes back after a drop, whatever broke:
 * - signaling (WebSocket closed; Socket.IO retries with backoff, and at once
 *   when the browser says it is online again): `join` with `resume` — the
 *   server kept the peer (ICE restarts on the kept transports) or forgot it
 *   (a full rejoin: new transports, tracks republished and resubscribed);
 * - media only (ICE/DTLS down while signaling is fine — the watchdog restarts
 *   ICE; after a few fruitless restarts the transports are rebuilt);
 * and `reconnected` is said only once media flows again.
 */
export class Reconnection {
	readonly #host: ReconnectionHost;
	#current: { reason: ReconnectReason; since: number } | undefined;
	#timer: ReturnType<typeof setTimeout> | undefined;
	/** The next resume asks the server to drop every transport (ICE restarts did not help). */
	#freshTransports = false;
	/** A resume is in flight on a new signaling connection. */
	#resuming = false;

	constructor(host: ReconnectionHost) {
		this.#host = host;
	}

	/** What was lost, while reconnecting. */
	get reason(): ReconnectReason | undefined {
		return this.#current?.reason;
	}

	/** Signaling or media dropped: tell the UI once, and give up after `reconnectTimeoutMs`. */
	begin(reason: ReconnectReason): void {
		const host = this.#host;
		if (host.ended() || this.#current) return;
		if (host.state() !== ConnectionState.Connected && host.state() !== ConnectionState.WaitingForAdmission) return;
		this.#current = { reason, since: Date.now() };
		host.reconnecting(reason);
		this.#timer = setTimeout(() => {
			host.fail(new SdkError('connection_failed', `could not reconnect within ${host.reconnectTimeoutMs} ms`));
		}, host.reconnectTimeoutMs);
	}

	/** The signaling connection dropped and Socket.IO is retrying. */
	onSignalLost(): void {
		const session = this.#host.session();
		if (session) session.watchdog.suspended = true;
		this.begin(ReconnectReason.SignalLost);
	}

	/**
	 * The node is shutting down and said so (`serverDraining`): reconnect now,
	 * through the same signaling address, to another node. The session goes on
	 * there (a fresh join: transports, tracks and subscriptions are rebuilt).
	 */
	onServerDraining(): void {
		const session = this.#host.session();
		if (!session) return;
		session.watchdog.suspended = true;
		this.begin(ReconnectReason.ServerMoved);
		session.signal.reconnectElsewhere();
	}

	/** The watchdog says media has been down for a while. */
	onMediaLost(): void {
		if (this.#host.state() === ConnectionState.Connected && this.#host.session()?.signal.connected) this.begin(ReconnectReason.MediaLost);
	}

	/** The watchdog says media flows again. */
	onMediaRestored(): void {
		if (this.#current?.reason === ReconnectReason.MediaLost && this.#host.session()?.signal.connected && !this.#resuming) this.#finish(true);
	}

	/** ICE restarts did not help: go around through signaling with new transports. */
	onMediaGaveUp(): void {
		this.#freshTransports = true;
		this.#host.session()?.signal.dropTransport();
	}

	/**
	 * Media stopped and signaling does not answer either: most likely the
	 * device's address changed (Wi-Fi → 4G, a VPN). Reopen signaling at once
	 * and rebuild the transports: fresh ones connect from the new address in
	 * a few round trips, while an ICE restart on the old ones took Chromium
	 * 1.5–4 s to move off the dead candidate pair.
	 */
	onSignalDead(): void {
		this.#freshTransports = true;
		this.#host.session()?.signal.reopen();
	}

	/** The browser says the network is back: retry now rather than at the next backoff tick. */
	onOnline(): void {
		if (this.#host.ended() || !this.#current) return;
		const session = this.#host.session();
		session?.signal.reconnectNow();
		session?.watchdog.kick();
	}

	/**
	 * Signaling is back: resume (or rebuild) the session, then wait until media
	 * flows before saying so. If it does not, rebuild the transports on the next
	 * connection.
	 */
	async onSignalBack(): Promise<void> {
		const host = this.#host;
		const session = host.session();
		if (host.ended() || !session) return;
		this.#resuming = true;
		session.watchdog.suspended = true;
		try {
			const fresh = this.#freshTransports;
			this.#freshTransports = false;
			const outcome = await host.join({ freshTransports: fresh });
			if (host.ended()) return;
			if (outcome === 'waiting') {
				// Back in the waiting room (forgotten and waiting again): nothing to restore.
				this.cancel();
				return;
			}
			if (outcome !== 'resumed' || fresh) session.watchdog.reset();
			const flowing = await session.watchdog.whenConnected(host.mediaReconnectTimeoutMs);
			if (host.ended()) return;
			if (!flowing) {
				// Signaling works, media does not: start over with new transports.
				this.#freshTransports = true;
				session.signal.dropTransport();
				return;
			}
			this.#finish(outcome === 'resumed' && !fresh);
		} catch (error) {
			if (host.ended()) return;
			const sdkError = SdkError.from(error);
			// Dropped again: the next reconnect tries again.
			if (sdkError.code === 'disconnected') return;
			// No answer: go around once more rather than sit on a silent socket.
			if (sdkError.code === 'request_timeout') {
				session.signal.dropTransport();
				return;
			}
			host.fail(sdkError);
		} finally {
			this.#resuming = false;
			if (!host.ended()) session.watchdog.suspended = false;
		}
	}

	/** Forget the reconnection under way (the room ended, or the peer is waiting again). */
	cancel(): void {
		clearTimeout(this.#timer);
		this.#current = undefined;
	}

	#finish(resumed: boolean): void {
		if (this.#host.ended()) return;
		const current = this.#current;
		this.cancel();
		this.#host.reconnected(current ? { resumed, reason: current.reason, durationMs: Date.now() - current.since } : undefined);
	}
}
