import type { FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { AuthError, type ApiClaims, type TokenVerifier } from '../auth/index.js';
import { SfuError } from '../protocol/index.js';
import { errorBody } from './errors.js';

const STATUS_BY_CODE: Record<string, number> = {
	not_found: 404,
	forbidden: 403,
	invalid_state: 409,
	room_closed: 409,
	limit_exceeded: 429,
	unavailable: 503,
	invalid_request: 400,
	invalid_payload: 400,
	source_forbidden: 403,
	source_unreachable: 422,
};

/** Who may act on a room over REST: admins, and that room's host. */
export function mayManage(claims: ApiClaims, roomId: string): boolean {
	return claims.role === 'admin' || (claims.role === 'host' && claims.room === roomId);
}

type Handler<T> = (request: FastifyRequest, reply: FastifyReply, claims: ApiClaims) => Promise<T>;

/**
 * Wraps a REST handler: a valid Bearer token first (401 otherwise), then the
 * handler; SfuErrors and invalid input become `{ error: { code, message } }`
 * with the matching status. A refusal says nothing about the resource.
 */
export function bearerGuard(verifier: TokenVerifier) {
	return <T>(handler: Handler<T>) =>
		async (request: FastifyRequest, reply: FastifyReply): Promise<T | FastifyReply> => {
			try {
				const match = /^Bearer ([A-Za-z0-9._~+/=-]+)$/.exec(request.headers.authorization ?? '');
				let claims: ApiClaims;
				try {
					claims = await verifier.verifyApi(match?.[1]);
				} catch (error) {
					if (error instanceof AuthError) {
						return reply.code(401).send(errorBody(error.code === 'auth_missing_token' ? 'unauthorized' : error.code, error.message));
					}
					throw error;
				}
				return await handler(request, reply, claims);
			} catch (error) {
				if (error instanceof SfuError) return reply.code(STATUS_BY_CODE[error.code] ?? 400).send(errorBody(error.code, error.message));
				if (error instanceof z.ZodError) {
					const issue = error.issues[0];
					return reply.code(400).send(errorBody('invalid_request', issue ? `${issue.path.join('.') || 'body'}: ${issue.message}` : 'invalid request'));
				}
				throw error;
			}
		};
}
