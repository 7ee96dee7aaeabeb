import { expect } from 'chai';
import { execFile } from 'node:child_process';
import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { listAuditFiles, verifyAuditTrail, type AuditEntry, type AuditPage } from '../../server/audit/index.js';
import type { RecordingSummary, SegmentEntry } from '../../server/recording/index.js';
import { launchBrowser, type TestBrowser } from '../support/browser.js';
import { openDemo, type DemoParticipant } from '../support/demoPage.js';
import { waitFor } from '../support/processes.js';
import { REPO_ROOT } from '../support/serverProcess.js';
import { mintToken, startSfu, TestClient, type TestSfu } from '../support/sfu.js';

const execFileAsync = promisify(execFile);

/**
 * The compliance question — who saw this consult, who recorded it, who
 * downloaded the recording, and when — answered from the trail of a real
 * consult: a host, a patient in Chromium admitted from the waiting room, a
 * consented recording, an admin listing and downloading it, both leaving.
 */
describe('audit: a full consult with a recording, on the trail', function () {
	this.timeout(180_000);
	const room = 'audit-consult-7';
	const names = { host: 'Dr Ignatius Vorbeck', patient: 'Perpetua Quillfeather' };
	const subs = { host: 'host-7f3a', patient: 'patient-91c2', admin: 'admin-03' };
	let sfu: TestSfu;
	let browser: TestBrowser;
	let host: TestClient;
	let patient: DemoParticipant;
	let tokens: { host: string; patient: string; admin: string };
	let recordingId: string;
	let downloaded: string;
	let nodeDir: string;

	const api = async <T>(method: string, route: string, token: string | null, body?: unknown): Promise<{ status: number; body: T }> => {
		const response = await fetch(`${sfu.url}${route}`, {
			method,
			headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
			...(body !== undefined ? { body: JSON.stringify(body) } : {}),
		});
		const text = await response.text();
		let parsed: unknown;
		try {
			parsed = text ? JSON.parse(text) : null;
		} catch {
			parsed = text;
		}
		return { status: response.status, body: parsed as T };
	};
	const audit = async (query: string): Promise<AuditEntry[]> => {
		const { status, body } = await api<AuditPage>('GET', `/api/audit?${query}`, tokens.admin);
		expect(status, JSON.stringify(body)).to.equal(200);
		return body.entries;
	};

	before(async () => {
		sfu = await startSfu({ RECORDING_SEGMENT_SECONDS: '2', AUDIT_CHECKPOINT_ENTRIES: '7', RECORDING_RETENTION_DAYS: '7', METRICS_ROOM_LABELS: 'true', NODE_ID: 'node-audit-1' });
		nodeDir = path.join(sfu.dataDir, 'audit', 'node-audit-1');
		browser = await launchBrowser();
		tokens = {
			host: await mintToken({ room, role: 'host', sub: subs.host, name: names.host }),
			admin: await mintToken({ room: 'any', role: 'admin' as 'host', sub: subs.admin, name: 'Admin Person' }),
			patient: '',
		};

		// The host opens the room; the patient lands in the waiting room and is admitted.
		host = await TestClient.connect(sfu.url, { token: tokens.host });
		await host.ok('join', { protocolVersion: 1 });
		patient = await openDemo(browser, sfu.url, room, 'patient', { name: names.patient, sub: subs.patient, waitState: 'waiting' });
		tokens.patient = decodeURIComponent(patient.page.url().split('#token=')[1]!);
		const waiting = await host.waitForNotification('waitingRoom', (d) => d.peers.length === 1, 15_000);
		await host.ok('admit', { peerId: waiting.peers[0]!.id });
		await patient.page.waitForFunction(() => (globalThis as unknown as { demo: { state: string } }).demo.state === 'joined', { timeout: 20_000 });

		// A consented recording with at least one sealed segment of the patient.
		recordingId = (await host.ok('startRecording', { requireConsent: true })).recordingId;
		await patient.page.evaluate(() => (globalThis as unknown as { demo: { room: { setRecordingConsent(c: boolean): Promise<void> } } }).demo.room.setRecordingConsent(true));
		await waitFor(() => sfu.server.recordings!.activeFor(room)?.manifest.entries.some((e) => e.type === 'segment'), 30_000, 'a sealed segment');
		await host.ok('stopRecording', {});

		// An admin lists the room's recordings and downloads a segment.
		const listed = await api<{ recordings: RecordingSummary[] }>('GET', `/api/recordings?room=${room}`, tokens.admin);
		expect(listed.body.recordings.map((r) => r.id)).to.deep.equal([recordingId]);
		const manifest = sfu.server.recordings!.manifest(recordingId);
		downloaded = manifest.entries.find((e): e is SegmentEntry => e.type === 'segment')!.file;
		const file = await fetch(`${sfu.url}/api/recordings/${recordingId}/files/${downloaded}`, { headers: { authorization: `Bearer ${tokens.admin}` } });
		expect(file.status).to.equal(200);
		const segment = manifest.entries.find((e): e is SegmentEntry => e.type === "segment")!;
		expect((await file.arrayBuffer()).byteLength, JSON.stringify(segment)).to.equal(segment.size);

		// Both leave.
		await patient.page.evaluate(() => (globalThis as unknown as { demo: { room: { leave(): Promise<void> } } }).demo.room.leave());
		await waitFor(() => sfu.server.rooms.get(room)?.peers().length === 1, 10_000, 'the patient gone');
		await host.ok('leave', {});
		host.close();
	});

	after(async () => {
		host?.close();
		await browser?.close();
		await sfu?.close();
	});

	it('the room’s trail is exactly the consult, in order: joins, admission, recording with consent, list, download, leaves', async () => {
		const entries = await audit(`room=${room}`);
		const seen = entries.map((e) => [e.type, e.actor?.sub ?? null, e.actor?.role ?? null, e.target?.sub ?? null]);
		expect(seen).to.deep.equal([
			['peer.joined', subs.host, 'host', null],
			['peer.waiting', subs.patient, 'patient', null],
			['peer.admitted', subs.host, 'host', subs.patient],
			['peer.joined', subs.patient, 'patient', null],
			['recording.started', subs.host, 'host', null],
			['recording.consent', subs.patient, 'patient', null],
			['recording.stopped', subs.host, 'host', null],
			['recording.listed', subs.admin, 'admin', null],
			['recording.downloaded', subs.admin, 'admin', null],
			['peer.left', subs.patient, 'patient', null],
			['peer.left', subs.host, 'host', null],
		]);
		expect(entries.every((e) => e.node === 'node-audit-1' && e.room === room)).to.equal(true);
		expect(entries.map((e) => e.ts)).to.deep.equal(entries.map((e) => e.ts).sort());
		const byType = (type: string) => entries.find((e) => e.type === type)!;
		expect(byType('recording.started')).to.deep.include({ recordingId, data: { consentRequired: true } });
		expect(byType('recording.consent').data).to.deep.equal({ consent: true });
		expect(byType('recording.stopped').data).to.include({ state: 'stopped', error: null });
		expect(byType('recording.downloaded')).to.deep.include({ recordingId });
		expect(byType('recording.downloaded').data).to.include({ file: downloaded, status: 200 });
		expect(entries.filter((e) => e.type === 'peer.left').map((e) => e.data!['reason'])).to.deep.equal(['left', 'left']);

		// The patient's view: everything that concerned them, including being admitted.
		const mine = await audit(`sub=${subs.patient}`);
		expect(mine.map((e) => e.type)).to.deep.equal(['peer.waiting', 'peer.admitted', 'peer.joined', 'recording.consent', 'peer.left']);

		// A time window, and pages.
		const from = byType('recording.started').ts;
		const to = byType('peer.left').ts;
		expect((await audit(`room=${room}&from=${from}&to=${to}`)).map((e) => e.type)).to.deep.equal(['recording.started', 'recording.consent', 'recording.stopped', 'recording.listed', 'recording.downloaded']);
		const first = await api<AuditPage>('GET', `/api/audit?room=${room}&limit=4`, tokens.admin);
		expect(first.body.entries).to.have.length(4);
		const second = await api<AuditPage>('GET', `/api/audit?room=${room}&limit=4&cursor=${first.body.nextCursor}`, tokens.admin);
		expect(second.body.entries.map((e) => e.seq)).to.deep.equal(entries.slice(4, 8).map((e) => e.seq));

		// Reading the trail is on the trail.
		const queries = await audit('type=audit.queried');
		expect(queries.length).to.be.at.least(5);
		expect(queries[0]).to.deep.include({ actor: { sub: subs.admin, role: 'admin' } });
		expect(queries[0]!.data).to.include({ room, results: 11 });
	});

	it('display names and tokens are in no log line, no metric and no trail entry; the trail names people only by sub', async () => {
		await sfu.server.audit!.log!.flush();
		const secrets = [names.host, names.patient, ...Object.values(tokens), ...Object.values(tokens).map((t) => t.split('.')[2]!)];
		expect(sfu.logs.length).to.be.greaterThan(50);
		const logText = sfu.logs.map((line) => JSON.stringify(line)).join('\n');
		const metrics = await (await fetch(`${sfu.url}/metrics`, { headers: { authorization: `Bearer ${tokens.admin}` } })).text();
		expect(metrics).to.contain('sfu_');
		const trail = listAuditFiles(nodeDir)
			.map((f) => readFileSync(f.path, 'utf8'))
			.join('');
		for (const secret of secrets) {
			expect(logText.includes(secret), `a log line holds "${secret.slice(0, 12)}…"`).to.equal(false);
			expect(metrics.includes(secret), `/metrics holds "${secret.slice(0, 12)}…"`).to.equal(false);
			expect(trail.includes(secret), `the trail holds "${secret.slice(0, 12)}…"`).to.equal(false);
			// Names also not split into their parts.
			if (!secret.includes('.')) for (const part of secret.split(' ').filter((p) => p.length > 3)) expect(logText + metrics + trail).not.to.contain(part);
		}
		expect(trail).to.contain(subs.patient).and.to.contain(subs.host).and.to.contain(room);
	});

	it('the verifier accepts the live trail and names the line of a one-byte edit anywhere in it', async () => {
		const log = sfu.server.audit!.log!;
		log.checkpoint();
		await log.flush();
		const copy = mkdtempSync(path.join(tmpdir(), 'sfu-audit-copy-'));
		try {
			const dir = path.join(copy, 'node-audit-1');
			cpSync(nodeDir, dir, { recursive: true });
			const publicKey = path.join(sfu.dataDir, 'keys', 'signing-ed25519.pub.pem');
			const cli = (...args: string[]) =>
				execFileAsync(process.execPath, ['--import', 'tsx', path.join(REPO_ROOT, 'server/tools/verify-audit.ts'), ...args], { cwd: REPO_ROOT }).then(
					({ stdout }) => ({ code: 0, stdout }),
					(error: { code: number; stdout: string }) => ({ code: error.code, stdout: error.stdout }),
				);
			const ok = await cli(dir, '--public-key', publicKey, '--strict');
			expect(ok.code, ok.stdout).to.equal(0);
			expect(ok.stdout).to.match(/^OK: node node-audit-1: \d+ files, \d+ entries, \d+ checkpoints; chain and signatures valid \(trusted key /);

			const files = readdirSync(dir).sort();
			const trusted = readFileSync(publicKey, 'utf8');
			// 300 positions spread over every file (the unit tests try every byte of a smaller trail).
			let tried = 0;
			for (const name of files) {
				const file = path.join(dir, name);
				const original = readFileSync(file);
				const step = Math.max(1, Math.floor(original.length / Math.ceil(300 / files.length)));
				for (let i = (tried * 7) % step; i < original.length; i += step) {
					const changed = Buffer.from(original);
					changed[i] = changed[i]! === 0x30 ? 0x31 : 0x30;
					writeFileSync(file, changed);
					const line = original.subarray(0, i).toString('utf8').split('\n').length;
					const report = await verifyAuditTrail(dir, { trustedPublicKeyPem: trusted });
					expect(report.problems.some((p) => p.file === name && p.line === line), `${name} byte ${i} (line ${line}): ${report.problems.map((p) => p.message).join('; ')}`).to.equal(true);
					tried += 1;
				}
				writeFileSync(file, original);
			}
			expect(tried).to.be.at.least(250);

			// The CLI names the line too, and fails.
			const target = path.join(dir, files[0]!);
			const lines = readFileSync(target, 'utf8').split('\n');
			const index = lines.findIndex((l) => l.includes(`"sub":"${subs.host}"`));
			lines[index] = lines[index]!.replace(subs.host, subs.host.replace('7', '8'));
			writeFileSync(target, lines.join('\n'));
			const bad = await cli(dir, '--public-key', publicKey);
			expect(bad.code).to.equal(1);
			expect(bad.stdout).to.contain('TAMPERED').and.to.contain(`${files[0]}:${index + 1} (seq ${index})`);
		} finally {
			rmSync(copy, { recursive: true, force: true });
		}
	});

	it('only admins read the trail or set a legal hold; every refusal is itself on the trail', async () => {
		expect((await api('GET', '/api/audit', tokens.host)).status).to.equal(403);
		expect((await api('GET', '/api/audit', tokens.patient)).status).to.equal(403);
		expect((await api('GET', '/api/audit', null)).status).to.equal(401);
		expect((await api('GET', '/api/audit', 'not.a.token')).status).to.equal(401);
		expect((await api('PUT', `/api/recordings/${recordingId}/legal-hold`, tokens.host, { hold: true })).status).to.equal(403);
		expect((await api('GET', `/api/audit?limit=5000`, tokens.admin)).status).to.equal(400);
		const expired = await mintToken({ room, role: 'patient', sub: 'late-patient', ttl: -3600 });
		await TestClient.connect(sfu.url, { token: expired, room }).then(
			(client) => {
				client.close();
				throw new Error('an expired token connected');
			},
			(error: { data?: { code?: string } }) => expect(error.data?.code).to.equal('auth_token_expired'),
		);

		const forbidden = await audit('type=access.forbidden');
		expect(forbidden.map((e) => [e.actor?.sub, e.data!['route']])).to.deep.equal([
			[subs.host, '/api/audit'],
			[subs.patient, '/api/audit'],
			[subs.host, '/api/recordings/:id/legal-hold'],
		]);
		const refused = await audit('type=access.refused');
		expect(refused.map((e) => [e.data!['via'], e.data!['code'], e.room ?? null])).to.deep.equal([
			['rest', 'unauthorized', null],
			['rest', 'auth_invalid_token', null],
			['signaling', 'auth_token_expired', room],
		]);
	});

	it('legal hold: shown in the summary, blocks deletion by an admin and by retention; lifted, retention deletes and records it', async () => {
		await waitFor(() => ['done', 'failed'].includes(sfu.server.recordings!.summary(recordingId).finalize?.state ?? ''), 60_000, 'finalization');
		const held = await api<RecordingSummary>('PUT', `/api/recordings/${recordingId}/legal-hold`, tokens.admin, { hold: true });
		expect(held.status).to.equal(200);
		expect(held.body.legalHold).to.equal(true);
		const refused = await api<{ error: { code: string; message: string } }>('DELETE', `/api/recordings/${recordingId}`, tokens.admin);
		expect(refused.status).to.equal(409);
		expect(refused.body.error.message).to.contain('legal hold');

		const retention = sfu.server.audit!.retention;
		const later = new Date(Date.now() + 8 * 24 * 3600 * 1000);
		expect(await retention.run(later)).to.deep.include({ deleted: [], held: [recordingId] });
		expect((await api('GET', `/api/recordings/${recordingId}`, tokens.admin)).status).to.equal(200);

		expect((await api<RecordingSummary>('PUT', `/api/recordings/${recordingId}/legal-hold`, tokens.admin, { hold: false })).body.legalHold).to.equal(false);
		expect((await retention.run(later)).deleted).to.deep.equal([recordingId]);
		expect((await api('GET', `/api/recordings/${recordingId}`, tokens.admin)).status).to.equal(404);

		const history = (await audit(`room=${room}`)).filter((e) => e.recordingId === recordingId).map((e) => [e.type, e.actor?.sub ?? null, e.data?.['hold'] ?? e.data?.['reason'] ?? null]);
		expect(history.filter(([type]) => type === 'recording.legal_hold').map(([, , hold]) => hold)).to.deep.equal([true, false]);
		expect(history.at(-1)).to.deep.equal(['recording.deleted', null, 'retention']);
		expect(history.some(([type, , reason]) => type === 'recording.deleted' && reason === 'request')).to.equal(false);
	});
});
