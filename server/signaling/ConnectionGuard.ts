import { EventEmitter } from 'node:events';

export interface ConnectionGuardOptions {
	/** Engine.IO sessions one address may hold at once, authenticated or not. */
	maxPerAddress: number;
	/** Sessions, from all addresses, that have not authenticated yet. */
	maxUnauthenticated: number;
	/** A session that has not authenticated this long after its handshake is closed. */
	handshakeTimeoutMs: number;
}

/** The request Engine.IO hands allowRequest (Node's IncomingMessage, or uWebSockets.js's stand-in). */
export interface HandshakeRequest {
	connection?: { remoteAddress?: string | undefined } | null;
	socket?: { remoteAddress?: string | undefined; once(event: 'close', listener: () => void): unknown; off(event: 'close', listener: () => void): unknown; destroy(): void } | null;
}

/** An Engine.IO session, as its 'connection' event hands it over. */
export interface EngineSession {
	request: unknown;
	once(event: 'close', listener: () => void): unknown;
	close(): void;
}

export type ConnectionGuardEvents = {
	/** A session refused before it existed: `limit_exceeded` (its address) or `unavailable` (everyone's). */
	refused: [code: 'limit_exceeded' | 'unavailable', address: string];
};

/** One admitted session: counted from its first request until its socket closes. */
class Lease {
	readonly address: string;
	/** The client's TCP connection (Node's engine; none on uWebSockets.js). */
	tcp: { destroy(): void } | null = null;
	session: EngineSession | null = null;
	authenticated = false;
	released = false;
	timer: NodeJS.Timeout | null = null;
	/** Stops watching the TCP connection (a keep-alive one may carry many handshakes). */
	unwatch: () => void = () => undefined;

	constructor(address: string) {
		this.address = address;
	}
}

/**
 * Bounds signaling connections below Socket.IO, where nothing has been
 * verified yet: sessions per address and unauthenticated sessions overall are
 * counted when Engine.IO's handshake request arrives — synchronously, before
 * anything awaits, so a burst of parallel handshakes cannot slip past the
 * count — and a session that has not authenticated within the deadline is
 * closed. Token verification (Socket.IO middleware) happens above this.
 */
export class ConnectionGuard extends EventEmitter<ConnectionGuardEvents> {
	readonly #options: ConnectionGuardOptions;
	readonly #perAddress = new Map<string, number>();
	readonly #leases = new WeakMap<object, Lease>();
	#unauthenticated = 0;

	constructor(options: ConnectionGuardOptions) {
		super();
		this.#options = options;
	}

	/** Sessions not yet authenticated. */
	get unauthenticated(): number {
		return this.#unauthenticated;
	}

	/** Sessions an address holds. */
	sessionsOf(address: string): number {
		return this.#perAddress.get(address) ?? 0;
	}

	/**
	 * Engine.IO's `allowRequest`: called once per new session, before the
	 * session exists. A refusal is an HTTP 403 (polling) or a failed WebSocket
	 * upgrade, carrying `<code>: <message>`.
	 */
	readonly allowRequest = (request: HandshakeRequest, callback: (error: string | null | undefined, success: boolean) => void): void => {
		const address = request.connection?.remoteAddress ?? request.socket?.remoteAddress ?? 'unknown';
		if (this.sessionsOf(address) >= this.#options.maxPerAddress) {
			this.emit('refused', 'limit_exceeded', address);
			callback('limit_exceeded: too many connections from this address', false);
			return;
		}
		if (this.#unauthenticated >= this.#options.maxUnauthenticated) {
			this.emit('refused', 'unavailable', address);
			callback('unavailable: too many connections are authenticating; try again shortly', false);
			return;
		}
		const lease = new Lease(address);
		lease.tcp = request.socket ?? null;
		this.#perAddress.set(address, this.sessionsOf(address) + 1);
		this.#unauthenticated += 1;
		this.#leases.set(request, lease);
		lease.timer = setTimeout(() => this.#expire(lease), this.#options.handshakeTimeoutMs).unref();
		// A client gone before its session was created (a failed upgrade) gives its place back.
		const socket = request.socket;
		if (socket) {
			const onClose = (): void => this.#release(lease);
			socket.once('close', onClose);
			lease.unwatch = () => socket.off('close', onClose);
		}
		callback(null, true);
	};

	/** Engine.IO's 'connection': the session of an admitted request now exists. */
	adopt(session: EngineSession): void {
		const lease = this.#leases.get(session.request as object);
		if (!lease) return;
		if (lease.released) {
			// Its client left (or its deadline passed) while the session was being set up.
			session.close();
			return;
		}
		lease.session = session;
		lease.unwatch();
		session.once('close', () => this.#release(lease));
	}

	/** The session's token verified: it no longer counts against the unauthenticated cap, and has no deadline. */
	authenticated(request: unknown): void {
		const lease = this.#leases.get(request as object);
		if (!lease || lease.authenticated || lease.released) return;
		lease.authenticated = true;
		this.#unauthenticated -= 1;
		if (lease.timer) clearTimeout(lease.timer);
		lease.timer = null;
	}

	#expire(lease: Lease): void {
		lease.timer = null;
		if (lease.authenticated) return;
		// Closing the session releases the lease through its 'close' event. A
		// WebSocket close waits up to 30 s for the client's answer, which a flooder
		// never sends: its TCP connection is dropped at once.
		lease.session?.close();
		lease.tcp?.destroy();
		this.#release(lease);
	}

	#release(lease: Lease): void {
		if (lease.released) return;
		lease.released = true;
		lease.unwatch();
		if (lease.timer) clearTimeout(lease.timer);
		lease.timer = null;
		if (!lease.authenticated) this.#unauthenticated -= 1;
		const left = this.sessionsOf(lease.address) - 1;
		if (left > 0) this.#perAddress.set(lease.address, left);
		else this.#perAddress.delete(lease.address);
	}
}
