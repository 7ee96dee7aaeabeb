import path from 'node:path';
import type { ServerConfig } from '../config/index.js';
import { SigningKey } from '../integrity/index.js';
import type { Logger } from '../logger/index.js';
import type { SignalingEvents } from '../protocol/index.js';
import type { RecordingService } from '../recording/index.js';
import type { RoomControl, RoomRegistry } from '../rooms/index.js';
import { AuditLog } from './AuditLog.js';
import { auditControl, auditRecordings, auditRooms, auditSignaling } from './auditSources.js';
import { RefusalRecorder } from './RefusalRecorder.js';
import { RetentionJob } from './RetentionJob.js';

export interface AuditTrailDeps {
	settings: ServerConfig['audit'];
	retention: ServerConfig['retention'];
	/** This node's id: its trail is `<audit root>/<nodeId>/`. */
	nodeId: string;
	dataDir: string;
	/** The node's Ed25519 key file (the one that signs recording manifests). */
	signingKeyFile: string;
	rooms: RoomRegistry;
	/** Host actions across nodes: this node records those it asked another node to carry out. */
	control: RoomControl;
	recordings: RecordingService | null;
	/** Signaling's observer (the signaling server's `observer`). */
	signaling: { readonly observer: SignalingEvents };
	logger: Logger;
}

/** The node's audit trail and retention, as SfuServer holds them. */
export interface AuditTrail {
	/** Null when AUDIT_ENABLED=false. */
	readonly log: AuditLog | null;
	/** Where refusals of unauthenticated clients go (bounded); null with the log. */
	readonly refusals: RefusalRecorder | null;
	readonly retention: RetentionJob;
	/** Root of the trails (this node's is `<root>/<nodeId>`). */
	readonly root: string;
	/** Stops retention, signs a last checkpoint, writes everything. Idempotent. */
	close(): Promise<void>;
}

/**
 * Opens the node's audit trail: it observes rooms, recordings and signaling
 * (nothing there calls into it), and starts the retention job. Its REST
 * routes are http/'s (`GET /api/audit`, `PUT /api/recordings/:id/legal-hold`).
 */
export function openAuditTrail(deps: AuditTrailDeps): AuditTrail {
	const root = path.resolve(deps.settings.dir ?? path.join(deps.dataDir, 'audit'));
	let log: AuditLog | null = null;
	let refusals: RefusalRecorder | null = null;
	const detach: (() => void)[] = [];
	if (deps.settings.enabled) {
		log = AuditLog.open({
			dir: path.join(root, deps.nodeId),
			node: deps.nodeId,
			key: SigningKey.loadOrCreate(deps.signingKeyFile),
			maxFileBytes: deps.settings.maxFileMb * 1024 * 1024,
			checkpointEntries: deps.settings.checkpointEntries,
			checkpointIntervalMs: deps.settings.checkpointIntervalMs,
			minFreeBytes: deps.settings.minFreeMb * 1024 * 1024,
			logger: deps.logger,
		});
		refusals = new RefusalRecorder(log, { intervalMs: deps.settings.refusalIntervalMs, maxAddresses: deps.settings.refusalMaxAddresses });
		detach.push(auditRooms(log, deps.rooms), auditSignaling(log, refusals, deps.signaling, deps.recordings), auditControl(log, deps.control));
		if (deps.recordings) detach.push(auditRecordings(log, deps.recordings));
		deps.logger.info({ dir: log.dir, seq: log.head.seq }, 'audit trail open');
	} else {
		deps.logger.warn('audit trail disabled (AUDIT_ENABLED=false)');
	}
	const retention = new RetentionJob({
		recordings: deps.recordings,
		recordingDays: deps.retention.recordingDays,
		audit: log,
		auditDays: deps.retention.auditDays,
		intervalMs: deps.retention.intervalMs,
		logger: deps.logger,
	});
	retention.start();
	let closing: Promise<void> | null = null;
	return {
		log,
		refusals,
		retention,
		root,
		close() {
			closing ??= (async () => {
				retention.close();
				for (const off of detach) off();
				refusals?.close();
				await log?.close();
			})();
			return closing;
		},
	};
}
