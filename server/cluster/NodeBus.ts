import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import { z } from 'zod';
import { currentActor, runAsActor } from '../context/index.js';
import type { Logger } from '../logger/index.js';
import { ERROR_CODES, SfuError } from '../protocol/index.js';
import { createRedisClient } from './redis.js';

/** How long a node waits for another node's answer. */
const DEFAULT_TIMEOUT_MS = 5000;
/** Largest message a node accepts from the bus: room control carries ids and small payloads. */
const MAX_MESSAGE_BYTES = 64 * 1024;
/** Requests one node may have in flight at once (each holds a timer and a promise). */
const MAX_PENDING = 10_000;

const ActorSchema = z.object({ sub: z.string().max(256), role: z.string().max(32), peerId: z.string().max(64).optional(), roomId: z.string().max(128).optional() });

const Message = z.discriminatedUnion('kind', [
	z.object({
		kind: z.literal('request'),
		id: z.string().min(1).max(64),
		from: z.string().min(1).max(128),
		method: z.string().min(1).max(64),
		payload: z.unknown(),
		actor: ActorSchema.optional(),
	}),
	z.object({
		kind: z.literal('answer'),
		id: z.string().min(1).max(64),
		ok: z.boolean(),
		data: z.unknown().optional(),
		error: z.object({ code: z.enum(ERROR_CODES), message: z.string().max(1000) }).optional(),
	}),
]);
type Message = z.infer<typeof Message>;

/** What a node does when another node asks (the payload is validated by the handler's schema). */
export type BusHandler<P, R> = { schema: z.ZodType<P>; handle(payload: P, from: string): Promise<R> };

export interface NodeBusOptions {
	redisUrl: string;
	nodeId: string;
	/** How long to wait for an answer. Default 5000 ms. */
	timeoutMs?: number;
	logger: Logger;
}

const inboxOf = (nodeId: string): string => `sfu:node:${nodeId}:bus`;

/**
 * Requests between nodes over Redis pub/sub: a node asks another node (by
 * id) to act, and the promise settles with that node's answer, its error (a
 * stable code), or `unavailable` when no answer comes in time. The person on
 * whose behalf the request runs travels with it, so the executing node's
 * audit trail names them. Every message is validated: Redis is trusted
 * infrastructure, and a malformed message must still not take a node down.
 */
export class NodeBus {
	readonly nodeId: string;
	readonly #options: NodeBusOptions;
	readonly #logger: Logger;
	readonly #publisher: Redis;
	readonly #subscriber: Redis;
	readonly #handlers = new Map<string, BusHandler<unknown, unknown>>();
	readonly #pending = new Map<string, { resolve: (data: unknown) => void; reject: (error: Error) => void; timer: NodeJS.Timeout }>();
	readonly #ready: Promise<void>;
	#closed = false;

	constructor(options: NodeBusOptions) {
		this.nodeId = options.nodeId;
		this.#options = options;
		this.#logger = options.logger;
		this.#publisher = createRedisClient(options.redisUrl);
		this.#subscriber = createRedisClient(options.redisUrl);
		this.#subscriber.on('message', (_channel: string, text: string) => this.#onMessage(text));
		this.#ready = this.#subscriber.subscribe(inboxOf(options.nodeId)).then(
			() => undefined,
			(error: unknown) => this.#logger.error({ err: error }, 'cannot subscribe to the node bus: requests from other nodes are not received'),
		);
	}

	/** Resolves once this node receives requests. */
	ready(): Promise<void> {
		return this.#ready;
	}

	/** Registers what this node does for `method`. */
	handle<P, R>(method: string, handler: BusHandler<P, R>): void {
		this.#handlers.set(method, handler);
	}

	/**
	 * Asks node `to` to run `method`; resolves with its answer. Rejects with
	 * the other node's SfuError, or `unavailable` if it does not answer in time.
	 */
	request<R>(to: string, method: string, payload: unknown): Promise<R> {
		if (this.#closed) return Promise.reject(new SfuError('unavailable', 'this node is shutting down'));
		if (this.#pending.size >= MAX_PENDING) return Promise.reject(new SfuError('unavailable', 'too many requests to other nodes in flight'));
		const id = randomUUID();
		const actor = currentActor();
		const message: Message = { kind: 'request', id, from: this.nodeId, method, payload, ...(actor ? { actor: { sub: actor.sub, role: actor.role, ...(actor.peerId ? { peerId: actor.peerId } : {}), ...(actor.roomId ? { roomId: actor.roomId } : {}) } } : {}) };
		return new Promise<R>((resolve, reject) => {
			const timer = setTimeout(() => {
				this.#pending.delete(id);
				reject(new SfuError('unavailable', `node ${to} did not answer in time`));
			}, this.#options.timeoutMs ?? DEFAULT_TIMEOUT_MS);
			this.#pending.set(id, { resolve: resolve as (data: unknown) => void, reject, timer });
			this.#publisher.publish(inboxOf(to), JSON.stringify(message)).then(
				(receivers) => {
					// Nobody subscribed: the node is gone (or not a node of this cluster).
					if (receivers === 0) this.#settle(id, new SfuError('unavailable', `node ${to} is not reachable`));
				},
				(error: unknown) => this.#settle(id, new SfuError('unavailable', 'the cluster state (Redis) is unreachable', { cause: error })),
			);
		});
	}

	/** Stops receiving and fails what is still waiting. Idempotent. */
	close(): void {
		if (this.#closed) return;
		this.#closed = true;
		for (const id of [...this.#pending.keys()]) this.#settle(id, new SfuError('unavailable', 'this node is shutting down'));
		this.#subscriber.disconnect();
		this.#publisher.disconnect();
	}

	#settle(id: string, outcome: Error | { data: unknown }): void {
		const pending = this.#pending.get(id);
		if (!pending) return;
		this.#pending.delete(id);
		clearTimeout(pending.timer);
		if (outcome instanceof Error) pending.reject(outcome);
		else pending.resolve(outcome.data);
	}

	#onMessage(text: string): void {
		if (text.length > MAX_MESSAGE_BYTES) return;
		let parsed: unknown;
		try {
			parsed = JSON.parse(text);
		} catch {
			return;
		}
		const message = Message.safeParse(parsed);
		if (!message.success) {
			this.#logger.warn('dropped a malformed message from the node bus');
			return;
		}
		if (message.data.kind === 'answer') {
			const { id, ok, data, error } = message.data;
			this.#settle(id, ok ? { data } : new SfuError(error?.code ?? 'internal_error', error?.message ?? 'the other node failed'));
			return;
		}
		void this.#serve(message.data);
	}

	async #serve(request: Extract<Message, { kind: 'request' }>): Promise<void> {
		let answer: Message;
		try {
			const handler = this.#handlers.get(request.method);
			if (!handler) throw new SfuError('unknown_method', `this node does not serve ${request.method}`);
			const payload = handler.schema.safeParse(request.payload);
			if (!payload.success) throw new SfuError('invalid_payload', `malformed ${request.method} request`);
			const run = (): Promise<unknown> => handler.handle(payload.data, request.from);
			const data = request.actor ? await runAsActor(request.actor, run) : await run();
			answer = { kind: 'answer', id: request.id, ok: true, data };
		} catch (error) {
			const known = error instanceof SfuError;
			if (!known) this.#logger.error({ err: error, method: request.method }, 'a request from another node failed unexpectedly');
			answer = { kind: 'answer', id: request.id, ok: false, error: known ? { code: error.code, message: error.message } : { code: 'internal_error', message: 'internal server error' } };
		}
		if (this.#closed) return;
		await this.#publisher.publish(inboxOf(request.from), JSON.stringify(answer)).catch(() => undefined);
	}
}
