import { io, type Socket } from 'socket.io-client';
import type {
	ClientToServerEvents,
	NotificationMap,
	ProtocolError,
	RequestMethod,
	RequestOf,
	ResponseOf,
	Result,
	ServerToClientEvents,
} from './protocol.js';
import { SdkError } from './SdkError.js';
import { TypedEmitter } from './TypedEmitter.js';

export interface SignalClientOptions {
	/** Server origin (`https://sfu.example.org`); Socket.IO's default namespace. */
	url: string;
	/** Token for each (re)connection; called again on every reconnect. */
	getToken: () => string | Promise<string>;
	/** Room the client means to enter; the server checks it against the token. */
	room?: string;
	/** Socket.IO path. Default '/socket.io'. */
	path?: string;
	/** Time (in ms) to wait for a request's acknowledgement. */
	requestTimeoutMs: number;
	/** Time (in ms) to wait for each connection attempt. */
	connectTimeoutMs: number;
}

export type SignalClientEvents = {
	/** Reconnected after a drop (the first connection resolves `open()` instead). */
	reconnected: [];
	/** The connection dropped; `willReconnect` says whether Socket.IO retries by itself. */
	disconnected: [reason: string, willReconnect: boolean];
	/** A reconnection attempt was refused for good (auth, …); Socket.IO stops retrying. */
	reconnectRefused: [error: SdkError];
};

type TypedSocket = Socket<ServerToClientEvents, ClientToServerEvents>;

/** Wait before reconnecting after a node refused the session as unavailable (it is shutting down). */
const UNAVAILABLE_RETRY_MS = 300;

/**
 * The Socket.IO connection and the request/notification framing of protocol
 * v1. Knows nothing about rooms or media.
 */
export class SignalClient extends TypedEmitter<SignalClientEvents> {
	readonly #options: SignalClientOptions;
	readonly #socket: TypedSocket;
	#opened = false;
	#closed = false;
	/** Set while reconnectNow() restarts the socket, whose own events are then not a drop. */
	#cycling = false;
	#abortOpen: ((error: SdkError) => void) | undefined;

	constructor(options: SignalClientOptions) {
		super();
		this.#options = options;
		this.#socket = io(options.url, {
			path: options.path ?? '/socket.io',
			transports: ['websocket'],
			autoConnect: false,
			reconnection: true,
			reconnectionDelay: 500,
			reconnectionDelayMax: 2000,
			randomizationFactor: 0.3,
			timeout: options.connectTimeoutMs,
			// A function, so each reconnection can present a fresh token.
			auth: (cb) => {
				Promise.resolve()
					.then(() => options.getToken())
					.then(
						(token) => cb(options.room === undefined ? { token } : { token, room: options.room }),
						() => cb({ token: '' }),
					);
			},
		});
		this.#socket.on('disconnect', (reason) => {
			if (this.#closed || this.#cycling) return;
			this.emit('disconnected', reason, this.#socket.active);
		});
		this.#socket.on('connect', () => {
			if (this.#closed || !this.#opened) return;
			this.emit('reconnected');
		});
		this.#socket.on('connect_error', (err) => {
			// While `active`, Socket.IO keeps retrying (network trouble); a refusal by
			// the server's middleware (auth) deactivates the socket.
			if (this.#closed || !this.#opened || this.#socket.active) return;
			const error = connectError(err);
			if (error.code === 'unavailable') {
				// A node shutting down refuses new sessions: the next try goes through
				// the signaling address again, to another node. The room gives up after
				// its reconnect timeout, as for any other drop.
				setTimeout(() => {
					if (!this.#closed && !this.#socket.connected && !this.#socket.active) this.#socket.connect();
				}, UNAVAILABLE_RETRY_MS);
				return;
			}
			this.emit('reconnectRefused', error);
		});
	}

	/** True while the signaling connection is up. */
	get connected(): boolean {
		return this.#socket.connected;
	}

	/** Opens the first connection; rejects with the server's auth error code, if any. */
	open(): Promise<void> {
		return new Promise((resolve, reject) => {
			const onConnect = (): void => {
				cleanup();
				this.#opened = true;
				resolve();
			};
			const onError = (err: Error): void => {
				cleanup();
				this.#socket.disconnect();
				reject(connectError(err));
			};
			const cleanup = (): void => {
				this.#abortOpen = undefined;
				this.#socket.off('connect', onConnect);
				this.#socket.off('connect_error', onError);
			};
			this.#abortOpen = (error) => {
				cleanup();
				reject(error);
			};
			this.#socket.on('connect', onConnect);
			this.#socket.on('connect_error', onError);
			this.#socket.connect();
		});
	}

	/**
	 * Sends one request and resolves with its data, or rejects with an
	 * {@link SdkError} carrying the server's code, `request_timeout` or
	 * `disconnected`. Never queues while disconnected: a request replayed after
	 * a reconnect would reach a session that is not resumed yet.
	 */
	request<M extends RequestMethod>(method: M, payload: RequestOf<M>, timeoutMs = this.#options.requestTimeoutMs): Promise<ResponseOf<M>> {
		if (this.#closed) return Promise.reject(new SdkError('closed', `cannot send ${method}: the connection is closed`));
		if (!this.#socket.connected) return Promise.reject(new SdkError('disconnected', `cannot send ${method}: not connected`));
		// The socket's event map cannot follow a generic method name; the types
		// are enforced by this method's signature instead.
		const socket = this.#socket as unknown as Socket;
		return new Promise((resolve, reject) => {
			socket.timeout(timeoutMs).emit(method, payload, (err: Error | null, result?: Result<ResponseOf<M>>) => {
				if (err) {
					const disconnected = err.message.includes('disconnected');
					reject(
						disconnected
							? new SdkError('disconnected', `${method}: connection lost before the answer`)
							: new SdkError('request_timeout', `${method}: no answer within ${timeoutMs} ms`),
					);
				} else if (!result || typeof result !== 'object') {
					reject(new SdkError('internal_error', `${method}: malformed answer`));
				} else if (result.ok) {
					resolve(result.data);
				} else {
					const { redirectUrl } = result.error as { redirectUrl?: unknown };
					reject(new SdkError(result.error.code, result.error.message, typeof redirectUrl === 'string' ? { redirectUrl } : {}));
				}
			});
		});
	}

	/** Subscribes to a server notification. */
	onNotification<N extends keyof NotificationMap>(name: N, handler: (data: NotificationMap[N]) => void): void {
		const event: string = name;
		(this.#socket as unknown as Socket).on(event, handler as (data: unknown) => void);
	}

	/**
	 * For diagnostics and tests: drops the underlying transport as a network
	 * failure would. Socket.IO then reconnects by itself.
	 */
	dropTransport(): void {
		this.#socket.io.engine?.close();
	}

	/**
	 * The connection looks up but does not answer (its TCP connection was
	 * bound to an address the device no longer has, after a network switch):
	 * drop it as a network failure would and connect again at once.
	 */
	reopen(): void {
		if (this.#closed || !this.#opened) return;
		this.dropTransport();
		this.reconnectNow();
	}

	/**
	 * While reconnecting: try now instead of waiting for the backoff timer
	 * (the browser just said the network is back).
	 */
	reconnectNow(): void {
		if (this.#closed || !this.#opened || this.#socket.connected) return;
		this.#cycling = true;
		try {
			this.#socket.disconnect();
		} finally {
			this.#cycling = false;
		}
		this.#socket.connect();
	}

	/**
	 * Reconnects now, even while connected: the node is shutting down and said
	 * so. The new connection goes through the same signaling address (to
	 * another node); `reconnected` follows as after any drop.
	 */
	reconnectElsewhere(): void {
		if (this.#closed || !this.#opened) return;
		this.#cycling = true;
		try {
			this.#socket.disconnect();
		} finally {
			this.#cycling = false;
		}
		this.#socket.connect();
	}

	/** Closes the connection for good. Idempotent. */
	close(): void {
		if (this.#closed) return;
		this.#closed = true;
		this.#abortOpen?.(new SdkError('closed', 'the connection was closed while opening'));
		this.#socket.removeAllListeners();
		this.#socket.disconnect();
		this.removeAllListeners();
	}
}

function connectError(err: Error & { data?: unknown }): SdkError {
	const data = err.data as Partial<ProtocolError> | undefined;
	if (data && typeof data.code === 'string') return new SdkError(data.code, data.message ?? err.message, { cause: err });
	return new SdkError('connection_failed', `cannot connect to the signaling server: ${err.message}`, { cause: err });
}
