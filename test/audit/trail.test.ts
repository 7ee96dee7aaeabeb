import { expect } from 'chai';
import { appendFileSync, mkdtempSync, readFileSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pino } from 'pino';
import { AuditLog, listAuditFiles, queryAudit, verifyAuditTrail, type AuditEntry, type AuditEvent } from '../../server/audit/index.js';
import { GENESIS, SigningKey } from '../../server/integrity/index.js';

const silent = pino({ level: 'silent' });

/** A clock the test moves. */
function clock(start: string): { now: () => Date; advance(ms: number): void } {
	let t = Date.parse(start);
	return { now: () => new Date(t), advance: (ms) => void (t += ms) };
}

function readEntries(dir: string): { file: string; line: number; entry: AuditEntry }[] {
	return listAuditFiles(dir).flatMap((f) =>
		readFileSync(f.path, 'utf8')
			.split('\n')
			.filter(Boolean)
			.map((text, i) => ({ file: f.name, line: i + 1, entry: JSON.parse(text) as AuditEntry })),
	);
}

const joined = (sub: string, room = 'consult-1'): AuditEvent => ({ type: 'peer.joined', actor: { sub, role: 'patient', peerId: `p-${sub}` }, room });

describe('audit trail: chain, checkpoints, rotation, verifier', function () {
	let root: string;
	let key: SigningKey;
	let dir: string;
	let opened: AuditLog[] = [];
	const open = (options: Partial<Parameters<typeof AuditLog.open>[0]> = {}): AuditLog => {
		const log = AuditLog.open({ dir, node: 'node-a', key, logger: silent, ...options });
		opened.push(log);
		return log;
	};

	beforeEach(() => {
		root = mkdtempSync(path.join(tmpdir(), 'sfu-audit-'));
		key = SigningKey.loadOrCreate(path.join(root, 'keys', 'signing-ed25519.pem'));
		dir = path.join(root, 'audit', 'node-a');
	});
	afterEach(async () => {
		await Promise.all(opened.map((log) => log.close()));
		opened = [];
		rmSync(root, { recursive: true, force: true });
	});

	it('chains entries across files rotated by size and by UTC day, seals each file with a checkpoint, and continues after a restart', async () => {
		const time = clock('2026-03-01T23:59:00.000Z');
		let log = open({ now: time.now, maxFileBytes: 1500, checkpointEntries: 4 });
		for (let i = 0; i < 8; i += 1) {
			log.record(joined(`user-${i}`));
			time.advance(1000);
		}
		time.advance(60_000); // past midnight
		for (let i = 0; i < 3; i += 1) log.record(joined(`late-${i}`));
		await log.close();
		log = open({ now: time.now, maxFileBytes: 1500, checkpointEntries: 4 });
		log.record(joined('after-restart'));
		await log.close();

		const files = listAuditFiles(dir);
		expect(files.length).to.be.at.least(3);
		expect(files.map((f) => f.day)).to.include.members(['20260301', '20260302']);
		const entries = readEntries(dir);
		entries.forEach(({ entry }, i) => {
			expect(entry.seq).to.equal(i);
			expect(entry.prev).to.equal(i === 0 ? GENESIS : entries[i - 1]!.entry.hash);
			expect(entry.node).to.equal('node-a');
		});
		for (const file of files.slice(0, -1)) {
			const last = entries.filter((e) => e.file === file.name).at(-1)!;
			expect(last.entry.type, `${file.name} ends sealed`).to.equal('checkpoint');
		}
		expect(entries.filter((e) => e.entry.type === 'audit.started')).to.have.length(2);
		expect(entries.at(-1)!.entry.type).to.equal('checkpoint');
		// No name or token fields exist at all: only opaque subs and ids.
		expect(readFileSync(files[0]!.path, 'utf8')).not.to.match(/displayName|"name"|token/i);

		const report = await verifyAuditTrail(dir, { trustedPublicKeyPem: key.publicKeyPem() });
		expect(report.problems).to.deep.equal([]);
		expect(report.ok).to.equal(true);
		expect(report.unsigned).to.equal(0);
		expect(report.entries).to.equal(entries.length);
		expect(report.checkpoints).to.be.at.least(4);
	});

	it('signs a checkpoint after N entries and after T milliseconds', async () => {
		const log = open({ checkpointEntries: 3, checkpointIntervalMs: 200 });
		log.record(joined('a'));
		log.record(joined('b')); // audit.started + 2 = 3: a checkpoint
		await log.flush();
		expect(readEntries(dir).map((e) => e.entry.type)).to.deep.equal(['audit.started', 'peer.joined', 'peer.joined', 'checkpoint']);
		log.record(joined('c'));
		await new Promise((resolve) => setTimeout(resolve, 400));
		await log.flush();
		expect(readEntries(dir).map((e) => e.entry.type).slice(-2)).to.deep.equal(['peer.joined', 'checkpoint']);
		await log.close();
	});

	it('never holds more than its bound in memory: what it drops is counted, and the count enters the chain', async () => {
		const log = open({ maxPending: 5, checkpointEntries: 1000 });
		let kept = 0;
		for (let i = 0; i < 50; i += 1) if (log.record(joined(`burst-${i}`))) kept += 1;
		expect(kept).to.be.below(50);
		await log.flush();
		log.record(joined('after'));
		await log.close();
		const dropped = readEntries(dir).find((e) => e.entry.type === 'audit.dropped')!.entry;
		expect(dropped.data).to.deep.equal({ count: 50 - kept });
		expect((await verifyAuditTrail(dir)).ok).to.equal(true);
	});

	it('cuts a line torn by a crash, records the loss, and stays verifiable', async () => {
		let log = open();
		log.record(joined('a'));
		await log.close();
		const file = listAuditFiles(dir).at(-1)!.path;
		appendFileSync(file, '{"v":1,"seq":99,"ts":"2026-'); // no newline: the write never finished
		log = open();
		await log.close();
		const types = readEntries(dir).map((e) => e.entry.type);
		expect(types).to.include('audit.recovered');
		const recovered = readEntries(dir).find((e) => e.entry.type === 'audit.recovered')!.entry;
		expect(recovered.data!['discardedBytes']).to.equal(27);
		expect((await verifyAuditTrail(dir)).ok).to.equal(true);
	});

	describe('tampering names the line', () => {
		let lines: string[];
		let file: string;
		beforeEach(async () => {
			const log = open({ checkpointEntries: 1000 });
			for (let i = 0; i < 8; i += 1) log.record(joined(`user-${i}`));
			await log.close();
			file = listAuditFiles(dir)[0]!.path;
			lines = readFileSync(file, 'utf8').split('\n').filter(Boolean);
		});
		const write = (next: string[]): void => writeFileSync(file, `${next.join('\n')}\n`);
		const named = (report: Awaited<ReturnType<typeof verifyAuditTrail>>) => report.problems.map((p) => `${p.file}:${p.line}`);

		it('an edited line', async () => {
			write(lines.map((l, i) => (i === 4 ? l.replace('user-3', 'user-X') : l)));
			const report = await verifyAuditTrail(dir);
			expect(report.ok).to.equal(false);
			expect(named(report)).to.deep.equal([`${path.basename(file)}:5`]);
			expect(report.problems[0]!.kind).to.equal('edited');
			expect(report.problems[0]!.message).to.contain(':5 (seq 4)');
		});

		it('an edited line whose hash was recomputed: the next checkpoint’s signature fails', async () => {
			const { createHash } = await import('node:crypto');
			const { canonical } = await import('../../server/integrity/index.js');
			// Rewrite line 5 and every hash after it, as an attacker without the key would.
			const entries = lines.map((l) => JSON.parse(l) as AuditEntry);
			entries[4]!.room = 'other-room';
			for (let i = 4; i < entries.length; i += 1) {
				if (i > 4) entries[i]!.prev = entries[i - 1]!.hash;
				const { hash: _h, ...body } = entries[i]!;
				entries[i]!.hash = createHash('sha256').update(canonical(body)).digest('hex');
			}
			write(entries.map((e) => JSON.stringify(e)));
			const report = await verifyAuditTrail(dir);
			expect(report.ok).to.equal(false);
			expect(report.problems.map((p) => p.kind)).to.deep.equal(['bad_signature']);
			expect(named(report)).to.deep.equal([`${path.basename(file)}:${lines.length}`]);
		});

		it('a deleted line', async () => {
			write(lines.filter((_l, i) => i !== 3));
			const report = await verifyAuditTrail(dir);
			expect(report.ok).to.equal(false);
			expect(named(report)).to.deep.equal([`${path.basename(file)}:4`]);
			expect(report.problems[0]!.message).to.contain('entry 3 is missing');
		});

		it('two lines swapped', async () => {
			write(lines.map((l, i) => (i === 3 ? lines[4]! : i === 4 ? lines[3]! : l)));
			const report = await verifyAuditTrail(dir);
			expect(report.ok).to.equal(false);
			expect(named(report)).to.deep.equal([`${path.basename(file)}:4`, `${path.basename(file)}:5`]);
			expect(report.problems.every((p) => p.kind === 'out_of_order')).to.equal(true);
		});

		it('a line added', async () => {
			const forged = { ...(JSON.parse(lines[2]!) as AuditEntry) };
			write([...lines.slice(0, 3), JSON.stringify(forged), ...lines.slice(3)]);
			const report = await verifyAuditTrail(dir);
			expect(report.ok).to.equal(false);
			expect(named(report)).to.include(`${path.basename(file)}:4`);
		});

		it('the signed end cut off, against an anchor from the logs', async () => {
			const last = JSON.parse(lines.at(-1)!) as AuditEntry;
			write(lines.slice(0, -2));
			const report = await verifyAuditTrail(dir, { anchor: { seq: last.seq, hash: last.hash } });
			expect(report.ok).to.equal(false);
			expect(report.problems.map((p) => p.kind)).to.deep.equal(['anchor_missing']);
		});
	});

	it('reports a one-byte change at every byte of every file, naming its line', async function () {
		this.timeout(120_000);
		const log = open({ maxFileBytes: 900, checkpointEntries: 3 });
		for (let i = 0; i < 4; i += 1) log.record(joined(`u${i}`, 'r'));
		await log.close();
		const files = listAuditFiles(dir);
		expect(files.length).to.be.at.least(2);
		let mutations = 0;
		for (const file of files) {
			const original = readFileSync(file.path);
			const lineOf: number[] = [];
			let line = 1;
			for (const byte of original) {
				lineOf.push(line);
				if (byte === 0x0a) line += 1;
			}
			for (let i = 0; i < original.length; i += 1) {
				const changed = Buffer.from(original);
				changed[i] = changed[i]! ^ 0x01;
				writeFileSync(file.path, changed);
				const report = await verifyAuditTrail(dir);
				expect(report.ok, `${file.name} byte ${i}`).to.equal(false);
				expect(
					report.problems.some((p) => p.file === file.name && p.line === lineOf[i]),
					`${file.name} byte ${i} (line ${lineOf[i]}): ${report.problems.map((p) => p.message).join('; ')}`,
				).to.equal(true);
				mutations += 1;
			}
			writeFileSync(file.path, original);
		}
		expect(mutations).to.be.greaterThan(1000);
		expect((await verifyAuditTrail(dir)).ok).to.equal(true);
	});

	it('expires old files, records it, and the verifier accepts the new start — but not one more file deleted by hand', async () => {
		const time = clock('2026-01-01T10:00:00.000Z');
		const log = open({ now: time.now, checkpointEntries: 2 });
		for (let day = 0; day < 4; day += 1) {
			log.record(joined(`day-${day}`));
			time.advance(24 * 3600 * 1000);
		}
		log.record(joined('today'));
		await log.flush();
		const before = listAuditFiles(dir).map((f) => f.name);
		expect(before).to.have.length(5);
		// A file is as old as its last entry: the checkpoint that sealed it when the next day began.
		const deleted = await log.expireFiles(new Date(time.now().getTime() - 1.5 * 24 * 3600 * 1000));
		expect(deleted).to.deep.equal(before.slice(0, 2));
		await log.close();
		const expired = readEntries(dir).find((e) => e.entry.type === 'audit.expired')!.entry;
		expect(expired.data).to.include({ files: 2, firstFile: before[0], lastFile: before[1] });

		let report = await verifyAuditTrail(dir);
		expect(report.problems).to.deep.equal([]);
		expect(report.notes.join(' ')).to.contain('deleted by retention');

		unlinkSync(path.join(dir, before[2]!));
		report = await verifyAuditTrail(dir);
		expect(report.ok).to.equal(false);
		expect(report.problems[0]!.kind).to.equal('start_missing');
		expect(report.problems[0]!.file).to.equal(before[3]);
	});

	it('answers queries by room, user and time range, a page at a time', async () => {
		const time = clock('2026-05-01T08:00:00.000Z');
		const log = open({ now: time.now });
		for (let i = 0; i < 30; i += 1) {
			log.record({ type: 'peer.joined', actor: { sub: `u${i % 3}`, role: 'patient' }, room: i % 2 === 0 ? 'even' : 'odd' });
			time.advance(60_000);
		}
		log.record({ type: 'peer.admitted', actor: { sub: 'host', role: 'host' }, target: { sub: 'u1', role: 'patient' }, room: 'even' });
		await log.close();
		const auditRoot = path.dirname(dir);

		const even = await queryAudit(auditRoot, { room: 'even', limit: 100 });
		expect(even.entries).to.have.length(16);
		expect(even.nextCursor).to.equal(null);
		expect(even.entries.every((e) => e.room === 'even')).to.equal(true);

		const u1 = await queryAudit(auditRoot, { sub: 'u1', limit: 100 });
		expect(u1.entries.map((e) => e.type)).to.deep.equal([...Array<string>(10).fill('peer.joined'), 'peer.admitted']);

		const window = await queryAudit(auditRoot, { from: new Date('2026-05-01T08:10:00Z'), to: new Date('2026-05-01T08:20:00Z'), limit: 100 });
		expect(window.entries).to.have.length(10);

		const seen: number[] = [];
		let cursor: string | null = null;
		let pages = 0;
		do {
			const page: Awaited<ReturnType<typeof queryAudit>> = await queryAudit(auditRoot, { type: 'peer.joined', limit: 7, ...(cursor ? { cursor } : {}) });
			seen.push(...page.entries.map((e) => e.seq));
			cursor = page.nextCursor;
			pages += 1;
		} while (cursor);
		expect(pages).to.equal(5);
		expect(seen).to.deep.equal([...seen].sort((a, b) => a - b));
		expect(new Set(seen).size).to.equal(30);
	});
});
