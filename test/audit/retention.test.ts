import { expect } from 'chai';
import { randomUUID } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pino } from 'pino';
import { AuditLog, RetentionJob, listAuditFiles, type AuditEntry } from '../../server/audit/index.js';
import { SigningKey } from '../../server/integrity/index.js';
import { ManifestWriter } from '../../server/recording/Manifest.js';
import { RecordingService, writeLegalHold } from '../../server/recording/index.js';

const silent = pino({ level: 'silent' });
const DAY = 24 * 3600 * 1000;

describe('retention: expired recordings deleted and recorded, legal hold kept', () => {
	let root: string;
	let recordings: RecordingService;
	let log: AuditLog;
	let key: SigningKey;

	/** A stopped recording on disk, as RecordingService leaves one. */
	const stoppedRecording = (roomId: string): string => {
		const id = randomUUID();
		const dir = path.join(root, 'recordings', id);
		mkdirSync(dir, { recursive: true });
		new ManifestWriter(dir, { recordingId: id, roomId, consentRequired: false, segmentSeconds: 60 }, key).finish('stopped');
		return id;
	};

	beforeEach(() => {
		root = mkdtempSync(path.join(tmpdir(), 'sfu-retention-'));
		key = SigningKey.loadOrCreate(path.join(root, 'keys', 'signing-ed25519.pem'));
		recordings = new RecordingService({
			dir: path.join(root, 'recordings'),
			segmentSeconds: 60,
			ffmpeg: 'ffmpeg',
			ffprobe: 'ffprobe',
			portMin: 30000,
			portMax: 30010,
			requireConsentDefault: false,
			minFreeBytes: 0,
			key,
			logger: silent,
		});
		log = AuditLog.open({ dir: path.join(root, 'audit', 'node-a'), node: 'node-a', key, logger: silent });
	});
	afterEach(async () => {
		await log.close();
		await recordings.close();
		rmSync(root, { recursive: true, force: true });
	});

	it('deletes a recording past its retention, keeps one under legal hold and one still young, and writes the deletion into the trail', async () => {
		const expired = stoppedRecording('consult-a');
		const held = stoppedRecording('consult-b');
		writeLegalHold(recordings.folderOf(held), true, 'admin-1');
		const job = new RetentionJob({ recordings, recordingDays: 30, audit: log, auditDays: 0, logger: silent });

		// Young: nothing happens.
		expect((await job.run(new Date(Date.now() + 29 * DAY))).deleted).to.deep.equal([]);

		const report = await job.run(new Date(Date.now() + 31 * DAY));
		expect(report.deleted).to.deep.equal([expired]);
		expect(report.held).to.deep.equal([held]);
		expect(existsSync(path.join(root, 'recordings', expired))).to.equal(false);
		expect(recordings.summary(held).legalHold).to.equal(true);
		expect(() => recordings.delete(held)).to.throw('legal hold');

		await log.flush();
		const entries = listAuditFiles(log.dir).flatMap((f) =>
			readFileSync(f.path, 'utf8')
				.split('\n')
				.filter(Boolean)
				.map((l) => JSON.parse(l) as AuditEntry),
		);
		const deletions = entries.filter((e) => e.type === 'recording.deleted');
		expect(deletions).to.have.length(1);
		expect(deletions[0]).to.deep.include({ actor: null, room: 'consult-a', recordingId: expired });
		expect(deletions[0]!.data).to.include({ reason: 'retention', retentionDays: 30 });

		// Lifting the hold lets the next pass delete it.
		writeLegalHold(recordings.folderOf(held), false, 'admin-1');
		expect((await job.run(new Date(Date.now() + 31 * DAY))).deleted).to.deep.equal([held]);
	});

	it('keeps everything when retention is 0 (the default)', async () => {
		const id = stoppedRecording('consult-c');
		const job = new RetentionJob({ recordings, recordingDays: 0, audit: log, auditDays: 0, logger: silent });
		expect((await job.run(new Date(Date.now() + 3650 * DAY))).deleted).to.deep.equal([]);
		expect(recordings.summary(id).legalHold).to.equal(false);
	});
});
