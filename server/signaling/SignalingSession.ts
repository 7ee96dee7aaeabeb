import type { RateLimiterMemory } from 'rate-limiter-flexible';
import type { TokenVerifier } from '../auth/index.js';
import { runAsActor } from '../context/index.js';
import type { Logger } from '../logger/index.js';
import { withRequestId } from '../context/index.js';
import type { IngestService } from '../ingest/index.js';
import type { RecordingService } from '../recording/index.js';
import type { RoomControl, RoomRegistry } from '../rooms/index.js';
import { protocolError, toProtocolError } from './errors.js';
import type { SignalingObserver } from './observer.js';
import { handlers, type SessionContext } from './handlers.js';
import { RequestSchemas, type ProtocolError, type RequestMethod, type Result, type TransportParams } from '../protocol/index.js';
import { SocketChannel } from './SocketChannel.js';
import type { SfuSocket } from './types.js';

export interface SignalingSessionDeps {
	rooms: RoomRegistry;
	control: RoomControl;
	recordings: RecordingService | null;
	ingest: IngestService;
	rateLimiter: RateLimiterMemory;
	verifier: TokenVerifier;
	defaultWaitingRoom: boolean;
	iceServers: () => TransportParams['iceServers'];
	logger: Logger;
	/** Told how each request was answered (metrics). */
	observer?: SignalingObserver;
}

type AnyAck = (result: Result<unknown>) => void;
type ObservedAck = (result: Result<unknown>, params?: unknown) => void;

const isMethod = (name: string): name is RequestMethod => Object.hasOwn(RequestSchemas, name);

/**
 * One socket's conversation: every incoming event is validated, rate-limited
 * and answered, one at a time, in arrival order; a dropped socket hands its
 * peer to the room's grace period.
 */
export class SignalingSession {
	readonly #socket: SfuSocket;
	readonly #deps: SignalingSessionDeps;
	readonly #ctx: SessionContext;
	readonly #logger: Logger;
	#expiryTimer: NodeJS.Timeout | null = null;
	/** Requests run one after another, so a client cannot race its own state. */
	#queue: Promise<void> = Promise.resolve();

	constructor(socket: SfuSocket, deps: SignalingSessionDeps) {
		this.#socket = socket;
		this.#deps = deps;
		this.#logger = deps.logger;
		this.#ctx = {
			claims: socket.data.claims,
			verifier: deps.verifier,
			armExpiry: () => this.#armExpiry(),
			channel: new SocketChannel(socket),
			rooms: deps.rooms,
			control: deps.control,
			recordings: deps.recordings,
			ingest: deps.ingest,
			defaultWaitingRoom: deps.defaultWaitingRoom,
			iceServers: deps.iceServers,
			room: null,
			peer: null,
		};
		// Each request gets an opaque id that every log line it causes carries.
		socket.onAny((event: unknown, ...args: unknown[]) => withRequestId(() => this.#onEvent(event, args)));
		socket.on('disconnect', (reason) => this.#onDisconnect(reason));
		this.#armExpiry();
	}

	#onEvent(event: unknown, args: unknown[]): void {
		const last = args[args.length - 1];
		if (typeof last !== 'function') {
			// Every request needs an acknowledgement to answer; anything else is noise.
			this.#logger.debug({ event: typeof event === 'string' ? event.slice(0, 64) : typeof event }, 'dropped event without acknowledgement');
			return;
		}
		const ack = this.#observed(typeof event === 'string' && isMethod(event) ? event : null, last as AnyAck);
		const payload = args.length > 1 ? args[0] : undefined;
		if (typeof event !== 'string' || !isMethod(event)) {
			ack(protocolError('unknown_method', 'unknown request'));
			return;
		}
		this.#deps.rateLimiter.consume(this.#socket.id).then(
			() => this.#enqueue(event, payload, ack),
			(rejection: unknown) => {
				if (rejection instanceof Error) {
					this.#logger.error({ err: rejection }, 'rate limiter failed');
					ack(protocolError('internal_error', 'internal server error'));
				} else {
					ack(protocolError('rate_limited', 'too many requests; slow down'));
				}
			},
		);
	}

	/** The acknowledgement, timed and reported to the observer once sent. */
	#observed(method: RequestMethod | null, ack: AnyAck): ObservedAck {
		const observer = this.#deps.observer;
		const startedAt = performance.now();
		return (result, params) => {
			ack(result);
			const seconds = (performance.now() - startedAt) / 1000;
			const code = result.ok ? null : result.error.code;
			this.#logger.debug({ method, ms: Math.round(seconds * 10_000) / 10, code }, 'request answered');
			const { claims, peer } = this.#ctx;
			const actor = { sub: claims.sub, role: claims.role, roomId: claims.room, peerId: peer?.id ?? null };
			observer?.emit('request', { method, seconds, code, actor, ...(params !== undefined ? { params } : {}) });
		};
	}

	#enqueue(method: RequestMethod, payload: unknown, ack: ObservedAck): void {
		this.#queue = this.#queue.then(() => this.#handle(method, payload, ack));
	}

	async #handle(method: RequestMethod, payload: unknown, ack: ObservedAck): Promise<void> {
		const parsed = RequestSchemas[method].safeParse(payload);
		if (!parsed.success) {
			ack({ ok: false, error: describeInvalid(parsed.error.issues) });
			return;
		}
		try {
			// The table is keyed by method, so the payload matches its handler.
			const handler = handlers[method] as (ctx: SessionContext, p: unknown) => Promise<unknown>;
			// What the request sets off (a recording starting, a peer removed) is this person's act in the audit trail.
			const { claims, peer } = this.#ctx;
			const actor = { sub: claims.sub, role: claims.role, roomId: claims.room, ...(peer ? { peerId: peer.id } : {}) };
			const data = await runAsActor(actor, () => handler(this.#ctx, parsed.data));
			ack({ ok: true, data }, parsed.data);
		} catch (error) {
			ack({ ok: false, error: toProtocolError(error, this.#logger, method) }, parsed.data);
		}
	}

	/**
	 * A session lives as long as its token: at expiry (unless refreshed) the
	 * peer is removed and told why, so a leaked or revoked-by-expiry token
	 * cannot keep watching a consult.
	 */
	#armExpiry(): void {
		if (this.#expiryTimer) clearTimeout(this.#expiryTimer);
		const msLeft = this.#ctx.claims.exp * 1000 - Date.now();
		// setTimeout cannot wait longer than ~24.8 days; re-arm from there.
		this.#expiryTimer = setTimeout(() => {
			if (this.#ctx.claims.exp * 1000 > Date.now()) {
				this.#armExpiry();
				return;
			}
			this.#logger.info({ peerId: this.#ctx.peer?.id }, 'session token expired');
			const { room, peer } = this.#ctx;
			this.#socket.emit('kicked', { reason: 'expired' });
			if (room && peer) room.remove(peer, 'expired');
			setImmediate(() => this.#socket.disconnect(true));
		}, Math.min(Math.max(0, msLeft), 2 ** 31 - 1));
		this.#expiryTimer.unref();
	}

	#onDisconnect(reason: string): void {
		if (this.#expiryTimer) clearTimeout(this.#expiryTimer);
		const { room, peer, channel } = this.#ctx;
		this.#logger.debug({ reason, peerId: peer?.id }, 'socket disconnected');
		this.#deps.rateLimiter.delete(this.#socket.id).catch(() => undefined);
		// Queued requests still run; after them the room learns the peer is gone.
		this.#queue = this.#queue.then(() => {
			if (room && peer) room.disconnect(peer, channel);
		});
	}
}

function describeInvalid(issues: readonly { path: readonly PropertyKey[]; message: string }[]): ProtocolError {
	const first = issues[0];
	const where = first && first.path.length > 0 ? first.path.map(String).join('.') : 'payload';
	return { code: 'invalid_payload', message: `${where}: ${first?.message ?? 'invalid'}`.slice(0, 300) };
}
