import send from '@fastify/send';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import type { ApiClaims, TokenVerifier } from '../auth/index.js';
import { SfuError, RoomIdSchema, safeText } from '../protocol/index.js';
import type { Logger } from '../logger/index.js';
import { MANIFEST_FILE, type RecordingService } from '../recording/index.js';
import type { RoomRegistry } from '../rooms/index.js';
import { bearerGuard, mayManage } from './apiAuth.js';

export interface RecordingRoutesDeps {
	recordings: RecordingService;
	rooms: RoomRegistry;
	verifier: TokenVerifier;
	logger: Logger;
}

const StartBody = z.strictObject({ requireConsent: z.boolean().optional() }).optional();
const RoomParams = z.object({ room: RoomIdSchema });
const IdParams = z.object({ id: safeText(64) });
const ListQuery = z.strictObject({ room: RoomIdSchema.optional() });

/**
 * REST for recordings: start / stop (host of the room or admin), list, read
 * the manifest, download files with HTTP ranges, finalize, delete (admin).
 * Every route needs a Bearer token; a refusal says nothing about the recording.
 */
export function registerRecordingRoutes(app: FastifyInstance, deps: RecordingRoutesDeps): void {
	const { recordings, rooms, verifier } = deps;

	const guard = bearerGuard(verifier);

	/** The recording's room, checked against the caller; unknown ids and foreign rooms look the same. */
	const recordingFor = (id: string, claims: ApiClaims) => {
		const summary = recordings.summary(id);
		if (!mayManage(claims, summary.roomId)) {
			throw claims.role === 'admin' || claims.role === 'host' ? new SfuError('forbidden', 'not your room') : new SfuError('forbidden', 'only hosts and admins may do that');
		}
		return summary;
	};

	app.post(
		'/api/rooms/:room/recordings',
		guard(async (request, reply, claims) => {
			const { room: roomId } = RoomParams.parse(request.params);
			const body = StartBody.parse(request.body ?? undefined);
			if (!mayManage(claims, roomId)) throw new SfuError('forbidden', 'only the room’s host or an admin may record');
			const room = rooms.get(roomId);
			if (!room || room.closed) throw new SfuError('not_found', 'no such room on this node');
			const recording = await recordings.start(room, body?.requireConsent !== undefined ? { requireConsent: body.requireConsent } : {});
			return reply.code(201).send({ recordingId: recording.id });
		}),
	);

	app.post(
		'/api/recordings/:id/stop',
		guard(async (request, _reply, claims) => {
			const { id } = IdParams.parse(request.params);
			recordingFor(id, claims);
			await recordings.stopById(id);
			return recordings.summary(id);
		}),
	);

	app.get(
		'/api/recordings',
		guard(async (request, _reply, claims) => {
			const query = ListQuery.parse(request.query);
			if (claims.role === 'admin') return { recordings: recordings.list(query.room ? { roomId: query.room } : {}) };
			if (claims.role !== 'host' || !claims.room) throw new SfuError('forbidden', 'only hosts and admins may list recordings');
			if (query.room && query.room !== claims.room) throw new SfuError('forbidden', 'not your room');
			return { recordings: recordings.list({ roomId: claims.room }) };
		}),
	);

	app.get(
		'/api/recordings/:id',
		guard(async (request, _reply, claims) => {
			const { id } = IdParams.parse(request.params);
			return { ...recordingFor(id, claims), manifest: recordings.manifest(id) };
		}),
	);

	app.post(
		'/api/recordings/:id/finalize',
		guard(async (request, reply, claims) => {
			const { id } = IdParams.parse(request.params);
			const summary = recordingFor(id, claims);
			if (summary.state === 'recording') throw new SfuError('invalid_state', 'stop the recording first');
			void recordings.finalize(id).catch(() => undefined);
			return reply.code(202).send(recordings.summary(id));
		}),
	);

	app.delete(
		'/api/recordings/:id',
		guard(async (request, reply, claims) => {
			const { id } = IdParams.parse(request.params);
			if (claims.role !== 'admin') throw new SfuError('forbidden', 'only admins may delete recordings');
			recordings.delete(id);
			return reply.code(204).send();
		}),
	);

	// Only files the manifest or the finalize status names can be downloaded:
	// no path from the URL ever reaches the file system unchecked.
	app.get(
		'/api/recordings/:id/files/*',
		guard(async (request, reply, claims) => {
			const { id } = IdParams.parse(request.params);
			const summary = recordingFor(id, claims);
			const wanted = (request.params as { '*': string })['*'];
			const manifest = recordings.manifest(id);
			const allowed = new Set<string>([
				MANIFEST_FILE,
				...manifest.entries.flatMap((e) => (e.type === 'segment' || e.type === 'composition' ? [e.file] : [])),
				...(summary.finalize?.outputs.map((o) => o.file) ?? []),
			]);
			if (!allowed.has(wanted)) throw new SfuError('not_found', 'no such file in this recording');
			return serveFile(request, reply, id, wanted, claims);
		}),
	);

	// The composed consult video (the latest one the signed manifest names), for
	// a browser's <video> (HTTP ranges) or a download.
	app.get(
		'/api/recordings/:id/composition',
		guard(async (request, reply, claims) => {
			const { id } = IdParams.parse(request.params);
			recordingFor(id, claims);
			const composition = recordings
				.manifest(id)
				.entries.filter((e) => e.type === 'composition')
				.at(-1);
			if (!composition) throw new SfuError('not_found', 'this recording has no composed video (yet)');
			return serveFile(request, reply, id, composition.file, claims);
		}),
	);

	async function serveFile(request: FastifyRequest, reply: FastifyReply, id: string, file: string, claims: ApiClaims): Promise<FastifyReply> {
		const result = await send(request.raw, `/${file}`, { root: recordings.folderOf(id), dotfiles: 'deny', acceptRanges: true, cacheControl: false, etag: true });
		if (result.type !== 'file') throw new SfuError('not_found', 'no such file in this recording');
		deps.logger.info({ recordingId: id, file, status: result.statusCode, sub: claims.sub }, 'recording file served');
		return reply.code(result.statusCode).headers(result.headers).send(result.stream);
	}
}
