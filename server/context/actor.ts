import { AsyncLocalStorage } from 'node:async_hooks';

/**
 * Who is acting while a signaling request or a REST call is handled: the
 * token's opaque `sub` and role (and the peer id inside a room), never a name.
 */
export interface Actor {
	sub: string;
	role: string;
	peerId?: string;
	/** The room the actor's token is for (join tokens; absent for admins). */
	roomId?: string;
}

interface ActorScope {
	actor: Actor;
	/** False once the request is answered (see below). */
	open: boolean;
}

const storage = new AsyncLocalStorage<ActorScope>();

/**
 * Runs `fn` on behalf of `actor`: service events emitted while it runs (a
 * recording starting, a peer removed) are attributed to that person. Timers
 * created meanwhile inherit the context, so the scope closes when `fn`
 * settles: a room closing 30 s after its host left is not the host's act.
 */
export async function runAsActor<T>(actor: Actor, fn: () => Promise<T>): Promise<T> {
	const scope: ActorScope = { actor, open: true };
	return storage.run(scope, async () => {
		try {
			return await fn();
		} finally {
			scope.open = false;
		}
	});
}

/**
 * A scope for callback-style frameworks (a Fastify hook calls `run(done)`,
 * and `close()` when the response is sent).
 */
export function actorScope(actor: Actor): { run(fn: () => void): void; close(): void } {
	const scope: ActorScope = { actor, open: true };
	return {
		run: (fn) => storage.run(scope, fn),
		close: () => {
			scope.open = false;
		},
	};
}

/** The person on whose behalf the current code runs, if any. */
export function currentActor(): Actor | undefined {
	const scope = storage.getStore();
	return scope?.open ? scope.actor : undefined;
}
