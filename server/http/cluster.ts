import type { FastifyInstance } from 'fastify';
import type { TokenVerifier } from '../auth/index.js';
import type { NodeRegistry } from '../cluster/index.js';
import { SfuError } from '../protocol/index.js';
import { bearerGuard } from './apiAuth.js';

/** `GET /api/cluster/nodes` (admin): the live nodes, their load and readiness. */
export function registerClusterRoutes(app: FastifyInstance, deps: { registry: NodeRegistry; verifier: TokenVerifier }): void {
	const guard = bearerGuard(deps.verifier);
	app.get(
		'/api/cluster/nodes',
		guard(async (_request, _reply, claims) => {
			if (claims.role !== 'admin') throw new SfuError('forbidden', 'admin tokens only');
			return { mode: deps.registry.mode, self: deps.registry.nodeId, redisRoundTripMs: deps.registry.roundTripMs, nodes: await deps.registry.nodes() };
		}),
	);
}
