export { currentRequestId, newRequestId, requestBindings, withRequestId } from './requestContext.js';
export { actorScope, currentActor, runAsActor } from './actor.js';
export type { Actor } from './actor.js';
