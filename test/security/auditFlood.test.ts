import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { AuditLog, RefusalRecorder, verifyAuditTrail, type AuditEntry } from '../../server/audit/index.js';
import { SigningKey } from '../../server/integrity/index.js';
import { waitFor } from '../support/processes.js';
import { startSfu, TestClient } from '../support/sfu.js';

function trailEntries(dir: string): AuditEntry[] {
	return readdirSync(dir)
		.filter((file) => file.endsWith('.jsonl'))
		.sort()
		.flatMap((file) => readFileSync(path.join(dir, file), 'utf8').split('\n').filter(Boolean))
		.map((line) => JSON.parse(line) as AuditEntry);
}

function captureLogger(): { logger: pino.Logger; lines: Record<string, unknown>[] } {
	const lines: Record<string, unknown>[] = [];
	const sink = new Writable({
		write(chunk: Buffer, _encoding, done) {
			for (const line of chunk.toString('utf8').split('\n')) if (line) lines.push(JSON.parse(line) as Record<string, unknown>);
			done();
		},
	});
	return { logger: pino({ level: 'debug' }, sink), lines };
}

describe('security: strangers cannot fill the disk through the audit trail', function () {
	this.timeout(180_000);

	it('400 handshakes with garbage tokens from one address write at most 50 audit lines, the summary carrying the count', async () => {
		const sfu = await startSfu({ LOG_LEVEL: 'info' });
		let closed = false;
		try {
			for (let batch = 0; batch < 20; batch++) {
				await Promise.all(
					Array.from({ length: 20 }, (_, i) =>
						TestClient.connect(sfu.url, { token: `garbage.${batch}.${i}` }).then(
							(client) => {
								client.close();
								throw new Error('a garbage token connected');
							},
							(error: { data?: { code?: string } }) => expect(error.data?.code).to.equal('auth_invalid_token'),
						),
					),
				);
			}
			const dir = sfu.server.audit!.log!.dir;
			// Closing the node ends the counting window: its summary is written.
			await sfu.server.close();
			closed = true;
			const entries = trailEntries(dir);
			expect(entries.length).to.be.at.most(50);
			const refused = entries.filter((e) => e.type === 'access.refused');
			expect(refused.map((e) => e.data!['code'])).to.deep.equal(['auth_invalid_token']);
			const summaries = entries.filter((e) => e.type === 'auth.refused');
			expect(summaries).to.have.length(1);
			expect(summaries[0]!.data).to.deep.include({ address: '127.0.0.1', count: 400, recorded: 1, codes: 'auth_invalid_token=400' });
			expect((await verifyAuditTrail(dir)).problems).to.deep.equal([]);
		} finally {
			if (!closed) await sfu.server.close();
			await sfu.close();
		}
	});

	describe('the refusal tally', () => {
		let dir: string;
		let log: AuditLog;
		beforeEach(() => {
			dir = mkdtempSync(path.join(tmpdir(), 'sfu-refusals-'));
			log = AuditLog.open({ dir: path.join(dir, 'node'), node: 'node', key: SigningKey.loadOrCreate(path.join(dir, 'key.pem')), logger: captureLogger().logger });
		});
		afterEach(async () => {
			await log.close();
			rmSync(dir, { recursive: true, force: true });
		});

		it('tracks a bounded number of addresses, the rest in one "others" count; IPv6 by /64; one summary per address per window', async () => {
			const recorder = new RefusalRecorder(log, { intervalMs: 60_000, maxAddresses: 3 });
			for (let n = 1; n <= 1000; n++) recorder.record({ via: 'signaling', code: 'auth_invalid_token', address: `10.0.${n >> 8}.${n & 255}` });
			// One /64: a client rotating through its own block counts as one address.
			for (let n = 1; n <= 50; n++) recorder.record({ via: 'rest', code: 'unauthorized', address: `2001:db8:1:2::${n.toString(16)}`, method: 'GET', route: '/api/recordings' });
			recorder.flush();
			await log.flush();
			const entries = trailEntries(path.join(dir, 'node'));
			const refused = entries.filter((e) => e.type === 'access.refused');
			expect(refused.map((e) => e.data!['address'])).to.deep.equal(['10.0.0.1', '10.0.0.2', '10.0.0.3']);
			const summaries = entries.filter((e) => e.type === 'auth.refused').map((e) => e.data!);
			expect(summaries.map((s) => [s['address'], s['count'], s['recorded']])).to.deep.equal([['others', 997 + 50, 0]]);
			expect(entries.length).to.be.below(10);
			// A new window starts afresh, and IPv6 addresses of one /64 share a tally.
			for (let n = 1; n <= 50; n++) recorder.record({ via: 'rest', code: 'unauthorized', address: `2001:db8:1:2::${n.toString(16)}` });
			recorder.close();
			await log.flush();
			const second = trailEntries(path.join(dir, 'node')).slice(entries.length);
			expect(second.filter((e) => e.type === 'access.refused').map((e) => e.data!['address'])).to.deep.equal(['2001:db8:1:2::1']);
			expect(second.filter((e) => e.type === 'auth.refused').map((e) => [e.data!['address'], e.data!['count']])).to.deep.equal([['2001:db8:1:2::/64', 50]]);
		});
	});

	describe('a disk floor of its own', () => {
		let mountPoint: string | null = null;
		before(function () {
			// A real, small file system, as test/recording/diskFull.test.ts does for recordings.
			const mount = mkdtempSync(path.join(tmpdir(), 'sfu-audit-disk-'));
			const result = spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=12m', 'tmpfs', mount], { encoding: 'utf8' });
			if (result.status !== 0) {
				rmSync(mount, { recursive: true, force: true });
				console.log(`      (skipped: cannot mount a tmpfs here: ${result.stderr.trim()})`);
				this.skip();
			}
			mountPoint = mount;
		});
		after(() => {
			if (mountPoint) {
				spawnSync('umount', [mountPoint]);
				rmSync(mountPoint, { recursive: true, force: true });
			}
		});

		it('below AUDIT_MIN_FREE_MB entries wait in memory and an error is logged; with space back they are written, chain intact', async () => {
			const keyDir = mkdtempSync(path.join(tmpdir(), 'sfu-audit-key-'));
			const { logger, lines } = captureLogger();
			const trailDir = path.join(mountPoint!, 'audit', 'node');
			const log = AuditLog.open({ dir: trailDir, node: 'node', key: SigningKey.loadOrCreate(path.join(keyDir, 'key.pem')), minFreeBytes: 6 * 1024 * 1024, logger });
			try {
				await log.flush();
				const file = log.currentFile!;
				const before = statSync(file).size;
				// Something else (recordings, logs) takes the disk down to ~5 MiB free.
				const filler = path.join(mountPoint!, 'filler.bin');
				writeFileSync(filler, Buffer.alloc(7 * 1024 * 1024));
				for (let i = 0; i < 20; i++) log.record({ type: 'access.forbidden', actor: { sub: `u${i}`, role: 'patient' }, data: { via: 'signaling', method: 'startRecording' } });
				await waitFor(() => log.diskLow, 10_000, 'the floor to be noticed');
				// flush() does not hang on a full disk; nothing was written past the floor.
				await log.flush();
				expect(statSync(file).size).to.equal(before);
				const error = lines.find((l) => l['msg'] === 'audit disk nearly full: entries wait in memory until space is freed');
				expect(error?.['level']).to.equal(50);
				rmSync(filler);
				await waitFor(() => !log.diskLow && statSync(file).size > before, 15_000, 'the waiting entries written');
				await log.flush();
				expect(trailEntries(trailDir).filter((e) => e.type === 'access.forbidden')).to.have.length(20);
				expect(lines.some((l) => l['msg'] === 'audit disk has room again: writing the waiting entries')).to.equal(true);
				await log.close();
				expect((await verifyAuditTrail(trailDir)).problems).to.deep.equal([]);
			} finally {
				await log.close();
				rmSync(keyDir, { recursive: true, force: true });
			}
		});
	});
});
