import type { Logger } from '../logger/index.js';
import type { RecordingService } from '../recording/index.js';
import type { AuditLog } from './AuditLog.js';

export interface RetentionOptions {
	/** This node's recordings (null: none to expire). */
	recordings: RecordingService | null;
	/** Recordings are deleted this many days after they stopped; 0 keeps them forever. */
	recordingDays: number;
	/** Where deletions are recorded, and whose old files expire (null: the trail is off). */
	audit: AuditLog | null;
	/** Audit files are deleted this many days after their last entry; 0 keeps them forever. */
	auditDays: number;
	/** How often the job runs. Default 1 h. */
	intervalMs?: number;
	logger: Logger;
}

export interface RetentionReport {
	deleted: string[];
	/** Expired, but under legal hold: kept. */
	held: string[];
	/** Expired, but could not be deleted now (being finalized): retried next run. */
	failed: string[];
	auditFiles: string[];
}

const DAY_MS = 24 * 3600 * 1000;

/**
 * Deletes what is past its retention period: stopped recordings (never one
 * under legal hold, never one still recording or being finalized) and old
 * audit files. Every deletion is written into the trail first-hand.
 */
export class RetentionJob {
	readonly #options: RetentionOptions;
	#timer: NodeJS.Timeout | null = null;
	#running: Promise<RetentionReport> | null = null;

	constructor(options: RetentionOptions) {
		this.#options = options;
	}

	/** Runs now (in the background) and then every interval; does nothing when both periods are 0. */
	start(): void {
		if (this.#timer || (this.#options.recordingDays === 0 && this.#options.auditDays === 0)) return;
		const run = (): void => void this.run().catch((error: unknown) => this.#options.logger.error({ err: error }, 'retention run failed'));
		this.#timer = setInterval(run, this.#options.intervalMs ?? 3600_000).unref();
		setImmediate(run);
	}

	/** One pass, as of `now`; concurrent calls share the pass in progress. */
	run(now: Date = new Date()): Promise<RetentionReport> {
		this.#running ??= this.#pass(now).finally(() => {
			this.#running = null;
		});
		return this.#running;
	}

	close(): void {
		if (this.#timer) clearInterval(this.#timer);
		this.#timer = null;
	}

	async #pass(now: Date): Promise<RetentionReport> {
		const { recordings, recordingDays, audit, auditDays, logger } = this.#options;
		const report: RetentionReport = { deleted: [], held: [], failed: [], auditFiles: [] };
		if (recordings && recordingDays > 0) {
			const cutoff = now.getTime() - recordingDays * DAY_MS;
			for (const summary of recordings.list()) {
				if (summary.state === 'recording' && recordings.activeRecordings().some((r) => r.id === summary.id)) continue;
				// A recording that died with its node never got stoppedAt: its start is the best age we have.
				const endedAt = Date.parse(summary.stoppedAt ?? summary.startedAt);
				if (endedAt > cutoff) continue;
				if (summary.legalHold) {
					report.held.push(summary.id);
					continue;
				}
				try {
					recordings.delete(summary.id);
				} catch (error) {
					report.failed.push(summary.id);
					logger.warn({ err: error, recordingId: summary.id }, 'expired recording not deleted; retrying next run');
					continue;
				}
				report.deleted.push(summary.id);
				audit?.record({
					type: 'recording.deleted',
					actor: null,
					room: summary.roomId,
					recordingId: summary.id,
					data: { reason: 'retention', retentionDays: recordingDays, startedAt: summary.startedAt, stoppedAt: summary.stoppedAt, segments: summary.segments, bytes: summary.bytes },
				});
			}
		}
		if (audit && auditDays > 0) report.auditFiles = await audit.expireFiles(new Date(now.getTime() - auditDays * DAY_MS));
		if (report.deleted.length + report.auditFiles.length + report.held.length > 0) {
			logger.info({ recordings: report.deleted.length, held: report.held.length, auditFiles: report.auditFiles.length }, 'retention pass');
		}
		return report;
	}
}
