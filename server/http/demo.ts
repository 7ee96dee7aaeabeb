import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import path from 'node:path';
import fastifyStatic from '@fastify/static';
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { ROLES, RoomIdSchema, SAFE_TEXT, UNSAFE_TEXT_MESSAGE } from '../protocol/index.js';
import { errorBody } from './errors.js';

export interface DemoRoutesOptions {
	/** Repository root: client-sdk/demo and client-sdk/dist are served from it. */
	root: string;
	/** Offer GET /api/dev/token (DEMO=1 only). */
	devTokens: boolean;
	/** Mints a short-lived HS256 join token; absent when no secret is known. */
	mint?: (claims: { sub: string; room: string; role: (typeof ROLES)[number]; name: string }) => Promise<string>;
}

const DevTokenQuery = z.strictObject({
	room: RoomIdSchema,
	role: z.enum(ROLES).default('clinician'),
	name: z.string().trim().min(1).max(64).regex(SAFE_TEXT, UNSAFE_TEXT_MESSAGE).default('Demo user'),
});

/**
 * The demo portal at /demo/ (joins from `/demo/?room=R#token=T`), the SDK
 * bundles at /sdk/, and with DEMO=1 a dev-token endpoint so a person can try
 * it without a portal.
 */
export async function registerDemoRoutes(app: FastifyInstance, options: DemoRoutesOptions): Promise<void> {
	const demoDir = path.join(options.root, 'client-sdk/demo');
	const sdkDir = path.join(options.root, 'client-sdk/dist');
	if (existsSync(demoDir)) {
		await app.register(fastifyStatic, { root: demoDir, prefix: '/demo/', index: ['index.html'], decorateReply: false, cacheControl: false });
		app.get('/', async (_request, reply) => reply.redirect('/demo/'));
		app.get('/demo', async (_request, reply) => reply.redirect('/demo/'));
	}
	if (existsSync(sdkDir)) {
		await app.register(fastifyStatic, { root: sdkDir, prefix: '/sdk/', decorateReply: false, cacheControl: false });
	}

	app.get('/api/dev/token', async (request, reply) => {
		if (!options.devTokens) return reply.code(404).send(errorBody('not_found', 'dev tokens are offered only in demo mode (DEMO=1)'));
		if (!options.mint) return reply.code(503).send(errorBody('unavailable', 'dev tokens need JWT_SECRET (a public key cannot mint)'));
		const query = DevTokenQuery.safeParse(request.query);
		if (!query.success) {
			const issue = query.error.issues[0]!;
			return reply.code(400).send(errorBody('invalid_request', `${issue.path.join('.') || 'query'}: ${issue.message}`));
		}
		const token = await options.mint({ sub: `demo-${randomUUID()}`, ...query.data });
		return reply.header('cache-control', 'no-store').send({ token });
	});
}
