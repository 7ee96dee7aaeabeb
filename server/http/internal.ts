import type { FastifyInstance } from 'fastify';
import { NODE_HEADER, NodeCallVerifier, PipeOfferSchema, type NodePipes } from '../cluster/index.js';
import { IdSchema, SfuError } from '../protocol/index.js';
import { errorBody } from './errors.js';

export interface InternalRoutesDeps {
	/** HMAC secret of node-to-node calls (CLUSTER_SECRET). */
	secret: string;
	pipes: NodePipes;
}

/**
 * Node-to-node routes of a cluster, signed with the cluster secret and good
 * once (see cluster/internalAuth.ts): `POST /internal/pipes` opens our half of a media
 * pipe toward the calling node, `DELETE /internal/pipes/:id` closes it.
 */
export function registerInternalRoutes(app: FastifyInstance, deps: InternalRoutesDeps): void {
	const verifier = new NodeCallVerifier(deps.secret);
	const authentic = (method: string, path: string, headers: Record<string, string | string[] | undefined>, body: string): boolean => verifier.verify(headers, method, path, body);

	app.post('/internal/pipes', async (request, reply) => {
		const body = typeof request.body === 'string' ? request.body : '';
		if (!authentic('POST', '/internal/pipes', request.headers, body)) return reply.code(401).send(errorBody('unauthorized', 'unsigned node call'));
		let json: unknown = null;
		try {
			json = JSON.parse(body);
		} catch {
			// Refused below like any other malformed offer.
		}
		const offer = PipeOfferSchema.safeParse(json);
		if (!offer.success) return reply.code(400).send(errorBody('invalid_request', 'bad pipe offer'));
		try {
			return await deps.pipes.openOutbound(offer.data, String(request.headers[NODE_HEADER] ?? 'unknown').slice(0, 128));
		} catch (error) {
			if (error instanceof SfuError && error.code === 'not_found') return reply.code(404).send(errorBody('not_found', 'no such producer here'));
			throw error;
		}
	});

	app.delete('/internal/pipes/:id', async (request, reply) => {
		const id = IdSchema.safeParse((request.params as { id?: unknown }).id);
		if (!id.success) return reply.code(400).send(errorBody('invalid_request', 'bad pipe id'));
		if (!authentic('DELETE', `/internal/pipes/${id.data}`, request.headers, '')) return reply.code(401).send(errorBody('unauthorized', 'unsigned node call'));
		deps.pipes.closeOutbound(id.data);
		return reply.code(204).send();
	});
}
