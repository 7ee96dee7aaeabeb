import type { FastifyInstance, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { AUDIT_EVENT_TYPES, decodeCursor, queryAudit, type AuditData, type AuditEvent, type AuditLog, type AuditParty, type RefusalRecorder } from '../audit/index.js';
import { actorScope, type Actor } from '../context/index.js';
import { AuthError, type ApiClaims, type TokenVerifier } from '../auth/index.js';
import { SfuError, RoomIdSchema, safeText } from '../protocol/index.js';
import type { RecordingService } from '../recording/index.js';
import { bearerGuard } from './apiAuth.js';

export interface AuditRoutesDeps {
	log: AuditLog;
	/** Where 401s go: bounded per address, so strangers cannot fill the trail. */
	refusals: RefusalRecorder;
	/** Root of the trails: every node folder under it is queried. */
	root: string;
	recordings: RecordingService | null;
	verifier: TokenVerifier;
}

const Instant = z.union([z.iso.datetime({ offset: true }), z.string().regex(/^\d{1,15}$/)]).transform((value) => new Date(/^\d+$/.test(value) ? Number(value) : value));

const AuditQuerySchema = z.strictObject({
	room: RoomIdSchema.optional(),
	sub: safeText(256).optional(),
	type: z.enum(AUDIT_EVENT_TYPES).optional(),
	from: Instant.optional(),
	to: Instant.optional(),
	cursor: z
		.string()
		.max(512)
		.refine((value) => {
			try {
				decodeCursor(value);
				return true;
			} catch {
				return false;
			}
		}, 'not a cursor from this API')
		.optional(),
	limit: z.coerce.number().int().min(1).max(1000).default(100),
});

/** What the REST layer knows of a request for the trail. */
interface RequestAudit {
	actor?: Actor;
	refusedCode?: string;
	/** The recording's room, read before a DELETE removes it. */
	room?: string;
	close?: () => void;
}

/** REST calls with an entry of their own, by `METHOD route`. */
const ACCESS_EVENTS: Record<string, AuditEvent['type']> = {
	'GET /api/recordings': 'recording.listed',
	'GET /api/recordings/:id': 'recording.viewed',
	'GET /api/recordings/:id/files/*': 'recording.downloaded',
	'DELETE /api/recordings/:id': 'recording.deleted',
};

/**
 * Calls recorded elsewhere: by the service events they cause (recordings
 * started and stopped, device sources added), or by their own route.
 */
const RECORDED_ELSEWHERE = new Set([
	'POST /api/rooms/:room/recordings',
	'POST /api/recordings/:id/stop',
	'POST /api/rooms/:room/ingests',
	'DELETE /api/rooms/:room/ingests/:id',
	'PUT /api/recordings/:id/legal-hold',
	'GET /api/audit',
]);

const partyOf = (actor: Actor): AuditParty => ({ sub: actor.sub, role: actor.role });

/**
 * The trail's view of REST: every /api/ call with a Bearer token runs in its
 * caller's actor scope (so a recording started over REST is that admin's or
 * host's act), refusals (401) and forbidden calls (403) are recorded, and so
 * are reads, downloads and deletions of recordings and admins' other calls.
 * Plus `GET /api/audit` (admins): the trail, by room, user, type and time.
 */
export function registerAuditRoutes(app: FastifyInstance, deps: AuditRoutesDeps): void {
	const { log, recordings, verifier } = deps;
	const seen = new WeakMap<FastifyRequest, RequestAudit>();
	const roomOfRecording = (id: unknown): string | undefined => {
		try {
			return typeof id === 'string' && recordings ? recordings.summary(id).roomId : undefined;
		} catch {
			return undefined;
		}
	};

	app.addHook('preHandler', (request, _reply, done) => {
		// Only Bearer calls have a person behind them (node-to-node calls sign otherwise).
		const header = request.headers.authorization;
		if (!request.url.startsWith('/api/') || !header?.startsWith('Bearer ')) {
			done();
			return;
		}
		const token = /^Bearer ([A-Za-z0-9._~+/=-]+)$/.exec(header)?.[1];
		verifier.verifyApi(token).then(
			(claims: ApiClaims) => {
				const actor: Actor = { sub: claims.sub, role: claims.role, ...(claims.room ? { roomId: claims.room } : {}) };
				const info: RequestAudit = { actor };
				if (request.method === 'DELETE' && request.routeOptions.url === '/api/recordings/:id') {
					const room = roomOfRecording((request.params as { id?: unknown }).id);
					if (room) info.room = room;
				}
				const scope = actorScope(actor);
				info.close = () => scope.close();
				seen.set(request, info);
				scope.run(done);
			},
			(error: unknown) => {
				seen.set(request, { refusedCode: error instanceof AuthError ? error.code : 'auth_invalid_token' });
				done();
			},
		);
	});

	app.addHook('onResponse', async (request, reply) => {
		const info = seen.get(request);
		info?.close?.();
		const route = request.routeOptions.url;
		if (!route?.startsWith('/api/')) return;
		const key = `${request.method} ${route}`;
		const status = reply.statusCode;
		const params = (request.params ?? {}) as { id?: unknown; room?: unknown; '*'?: unknown };
		const paramRoom = typeof params.room === 'string' ? params.room : undefined;
		if (status === 401) {
			deps.refusals.record({ via: 'rest', method: request.method, route, code: info?.refusedCode ?? 'unauthorized', address: request.ip, ...(paramRoom ? { room: paramRoom } : {}) });
			return;
		}
		const actor = info?.actor;
		if (!actor) return;
		if (status === 403) {
			log.record({ type: 'access.forbidden', actor: partyOf(actor), ...(paramRoom ? { room: paramRoom } : {}), data: { via: 'rest', method: request.method, route } });
			return;
		}
		if (status >= 400 || RECORDED_ELSEWHERE.has(key)) return;
		const type = ACCESS_EVENTS[key];
		const recordingId = typeof params.id === 'string' ? params.id : undefined;
		if (type === 'recording.listed') {
			const room = (request.query as { room?: unknown }).room;
			log.record({ type, actor: partyOf(actor), ...(typeof room === 'string' ? { room } : actor.role !== 'admin' && actor.roomId ? { room: actor.roomId } : {}) });
		} else if (type) {
			const room = type === 'recording.deleted' ? info?.room : roomOfRecording(recordingId);
			const data: AuditData | undefined =
				type === 'recording.downloaded'
					? { file: String(params['*']), status, range: request.headers.range !== undefined }
					: type === 'recording.deleted'
						? { reason: 'request' }
						: undefined;
			log.record({ type, actor: partyOf(actor), ...(room ? { room } : {}), ...(recordingId ? { recordingId } : {}), ...(data ? { data } : {}) });
		} else if (actor.role === 'admin' && request.method !== 'GET' && request.method !== 'HEAD') {
			log.record({ type: 'admin.action', actor: partyOf(actor), ...(paramRoom ? { room: paramRoom } : {}), data: { method: request.method, route, status } });
		}
	});

	const guard = bearerGuard(verifier);
	app.get(
		'/api/audit',
		guard(async (request, _reply, claims) => {
			if (claims.role !== 'admin') throw new SfuError('forbidden', 'only admins may read the audit trail');
			const query = AuditQuerySchema.parse(request.query);
			// Entries recorded a moment ago are still on their way to the disk.
			await log.flush();
			const page = await queryAudit(deps.root, {
				limit: query.limit,
				...(query.room ? { room: query.room } : {}),
				...(query.sub ? { sub: query.sub } : {}),
				...(query.type ? { type: query.type } : {}),
				...(query.from ? { from: query.from } : {}),
				...(query.to ? { to: query.to } : {}),
				...(query.cursor ? { cursor: query.cursor } : {}),
			});
			// Reading the trail is itself on the trail.
			log.record({
				type: 'audit.queried',
				actor: { sub: claims.sub, role: claims.role },
				data: {
					room: query.room ?? null,
					sub: query.sub ?? null,
					type: query.type ?? null,
					from: query.from?.toISOString() ?? null,
					to: query.to?.toISOString() ?? null,
					page: query.cursor ? 'next' : 'first',
					results: page.entries.length,
				},
			});
			return page;
		}),
	);
}
