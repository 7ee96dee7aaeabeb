import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import type { AuditLog } from '../audit/index.js';
import type { TokenVerifier } from '../auth/index.js';
import { SfuError, safeText } from '../protocol/index.js';
import { writeLegalHold, type RecordingService } from '../recording/index.js';
import { bearerGuard } from './apiAuth.js';

export interface LegalHoldRoutesDeps {
	recordings: RecordingService;
	verifier: TokenVerifier;
	/** Where holds set and lifted are recorded (null: trail disabled). */
	log: AuditLog | null;
}

const IdParams = z.object({ id: safeText(64) });
const HoldBody = z.strictObject({ hold: z.boolean() });

/**
 * `PUT /api/recordings/:id/legal-hold {hold}` (admins): a held recording
 * cannot be deleted, by an admin or by retention, until the hold is lifted.
 */
export function registerLegalHoldRoutes(app: FastifyInstance, deps: LegalHoldRoutesDeps): void {
	const guard = bearerGuard(deps.verifier);
	app.put(
		'/api/recordings/:id/legal-hold',
		guard(async (request, _reply, claims) => {
			if (claims.role !== 'admin') throw new SfuError('forbidden', 'only admins may set a legal hold');
			const { id } = IdParams.parse(request.params);
			const { hold } = HoldBody.parse(request.body);
			const summary = deps.recordings.summary(id);
			writeLegalHold(deps.recordings.folderOf(id), hold, claims.sub);
			deps.log?.record({ type: 'recording.legal_hold', actor: { sub: claims.sub, role: claims.role }, room: summary.roomId, recordingId: id, data: { hold } });
			return deps.recordings.summary(id);
		}),
	);
}
