import { AsyncLocalStorage } from 'node:async_hooks';
import { randomBytes } from 'node:crypto';

interface RequestContext {
	reqId: string;
}

const storage = new AsyncLocalStorage<RequestContext>();
/** A per-process prefix keeps ids unique across nodes and restarts without a random draw per request. */
const prefix = randomBytes(4).toString('hex');
let counter = 0;

/** A new opaque request id: unique per process run, meaningless outside the logs. */
export function newRequestId(): string {
	counter = (counter + 1) % Number.MAX_SAFE_INTEGER;
	return `${prefix}-${counter.toString(36)}`;
}

/**
 * Runs `fn` as one request: every log line written while it (and whatever it
 * awaits or schedules) runs carries `reqId`, whichever module writes it.
 */
export function withRequestId<T>(fn: () => T, reqId: string = newRequestId()): T {
	return storage.run({ reqId }, fn);
}

/** The current request's id, if any. */
export function currentRequestId(): string | undefined {
	return storage.getStore()?.reqId;
}

/** pino mixin: the fields the current request adds to a log line. */
export function requestBindings(): Record<string, string> {
	const store = storage.getStore();
	return store ? { reqId: store.reqId } : {};
}
