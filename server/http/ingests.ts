import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import type { TokenVerifier } from '../auth/index.js';
import { SfuError, RequestSchemas, RoomIdSchema, safeText } from '../protocol/index.js';
import type { IngestService } from '../ingest/index.js';
import type { RoomRegistry } from '../rooms/index.js';
import { bearerGuard, mayManage } from './apiAuth.js';

export interface IngestRoutesDeps {
	ingest: IngestService;
	rooms: RoomRegistry;
	verifier: TokenVerifier;
}

const RoomParams = z.object({ room: RoomIdSchema });
const IngestParams = z.object({ room: RoomIdSchema, id: safeText(64) });

/**
 * REST for pulled device sources (host of the room or admin):
 * add (`POST /api/rooms/:room/ingests {url, name?}`), list, remove.
 */
export function registerIngestRoutes(app: FastifyInstance, deps: IngestRoutesDeps): void {
	const guard = bearerGuard(deps.verifier);
	const roomFor = (roomId: string, claims: Parameters<typeof mayManage>[0]) => {
		if (!mayManage(claims, roomId)) throw new SfuError('forbidden', 'only the room’s host or an admin may manage device sources');
		const room = deps.rooms.get(roomId);
		if (!room || room.closed) throw new SfuError('not_found', 'no such room on this node');
		return room;
	};

	app.post(
		'/api/rooms/:room/ingests',
		guard(async (request, reply, claims) => {
			const { room: roomId } = RoomParams.parse(request.params);
			const body = RequestSchemas.addIngestSource.parse(request.body);
			const status = await deps.ingest.addSource(roomFor(roomId, claims), { url: body.url, ...(body.name ? { name: body.name } : {}) });
			return reply.code(201).send(status);
		}),
	);

	app.get(
		'/api/rooms/:room/ingests',
		guard(async (request, _reply, claims) => {
			const { room: roomId } = RoomParams.parse(request.params);
			return { ingests: deps.ingest.list(roomFor(roomId, claims).id) };
		}),
	);

	app.delete(
		'/api/rooms/:room/ingests/:id',
		guard(async (request, reply, claims) => {
			const { room: roomId, id } = IngestParams.parse(request.params);
			deps.ingest.removeSource(roomFor(roomId, claims), id);
			return reply.code(204).send();
		}),
	);
}
