import { signRequest } from './internalAuth.js';
import type { NodeInfo } from './NodeRegistry.js';

/** How long a node-to-node call may take before the caller gives up. */
const CALL_TIMEOUT_MS = 5000;

/**
 * A signed HTTP call to another node's internal routes (HMAC over time,
 * method, path and body with the cluster secret; see internalAuth.ts).
 */
export function callNode(secret: string, fromNodeId: string, to: Pick<NodeInfo, 'internalUrl'>, method: 'POST' | 'DELETE', path: string, body = ''): Promise<Response> {
	return fetch(`${to.internalUrl}${path}`, {
		method,
		headers: { ...(body ? { 'content-type': 'text/plain' } : {}), ...signRequest(secret, fromNodeId, method, path, body) },
		...(body ? { body } : {}),
		signal: AbortSignal.timeout(CALL_TIMEOUT_MS),
	});
}
