import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, renameSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { ManifestDocument, RecordingSummary, SegmentEntry } from '../../server/recording/index.js';
import { verifyRecording } from '../../server/recording/index.js';
import { launchBrowser, type TestBrowser } from '../support/browser.js';
import { openDemo, waitForMediaFrom, type DemoParticipant } from '../support/demoPage.js';
import { isAlive, waitFor } from '../support/processes.js';
import { decodeErrors, ffprobe, lastPacketEnd } from '../support/mediaFiles.js';
import { REPO_ROOT } from '../support/serverProcess.js';
import { mintToken, startSfu, TestClient, type TestSfu } from '../support/sfu.js';

describe('recording: consented, crash-safe, tamper-evident', function () {
	this.timeout(120_000);
	let sfu: TestSfu;
	let browser: TestBrowser;
	let host: DemoParticipant;
	let guest: DemoParticipant;
	let hostToken: string;
	const room = 'recorded-consult';

	const api = async <T>(method: string, route: string, token: string | null, body?: unknown): Promise<{ status: number; body: T }> => {
		const response = await fetch(`${sfu.url}${route}`, {
			method,
			headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
			...(body !== undefined ? { body: JSON.stringify(body) } : {}),
		});
		const text = await response.text();
		return { status: response.status, body: (text ? JSON.parse(text) : null) as T };
	};

	const waitFinalized = (id: string) =>
		waitFor(
			async () => {
				const { body } = await api<RecordingSummary>('GET', `/api/recordings/${id}`, hostToken);
				return body.finalize?.state === 'done' ? body : null;
			},
			30_000,
			'finalization',
		);

	before(async () => {
		sfu = await startSfu({ RECORDING_SEGMENT_SECONDS: '3', ROOM_WAITING_ROOM: 'false', LOG_LEVEL: 'info' });
		browser = await launchBrowser();
		host = await openDemo(browser, sfu.url, room, 'host', { sub: 'host-user' });
		guest = await openDemo(browser, sfu.url, room, 'clinician', { sub: 'guest-user' });
		await waitForMediaFrom(host, guest);
		await waitForMediaFrom(guest, host);
		hostToken = await mintToken({ room, role: 'host', sub: 'host-user' });
	});

	after(async () => {
		await browser?.close();
		await sfu?.close();
	});

	it('records 10 s of each participant: readable audio + video of the right duration, in sync, every participant notified', async () => {
		const watcher = await TestClient.connect(sfu.url, { token: await mintToken({ room, role: 'observer' }) });
		try {
			await watcher.ok('join', { protocolVersion: 1 });
			const started = await api<{ recordingId: string }>('POST', `/api/rooms/${room}/recordings`, hostToken, {});
			expect(started.status).to.equal(201);
			const id = started.body.recordingId;
			const t0 = Date.now();
			const banner = await watcher.waitForNotification('recordingState', (d) => d.active && d.recordedPeerIds.length === 2);
			expect(banner.recordingId).to.equal(id);
			await sleep(10_000);
			// The record runs from the start request to the stop request: the time the stop
			// takes to seal the segments is not media the file should hold.
			const elapsed = (Date.now() - t0) / 1000;
			const stopped = await api<RecordingSummary>('POST', `/api/recordings/${id}/stop`, hostToken);
			expect(stopped.status).to.equal(200);
			expect(stopped.body.state).to.equal('stopped');
			await watcher.waitForNotification('recordingState', (d) => !d.active && d.recordingId === id);

			const summary = await waitFinalized(id);
			expect(summary.finalize!.outputs).to.have.length(2);
			const dir = path.join(sfu.dataDir, 'recordings', id);
			for (const output of summary.finalize!.outputs) {
				const probe = await ffprobe(path.join(dir, output.file));
				const audio = probe.streams.find((s) => s.codec_type === 'audio');
				const video = probe.streams.find((s) => s.codec_type === 'video');
				expect(audio?.codec_name).to.equal('opus');
				expect(video?.codec_name).to.equal('vp8');
				// Everything from the first key frame to the stop: ffmpeg's start and the
				// first key frame take up to ~2 s on a loaded 2-core machine.
				expect(Number(probe.format.duration)).to.be.within(elapsed - 2.5, elapsed + 0.5);
				// In sync: video may start a little later (it waits for a key frame), but
				// both streams end together, on one timeline aligned by RTCP sender reports.
				const file = path.join(dir, output.file);
				expect(Math.abs((await lastPacketEnd(file, 'a')) - (await lastPacketEnd(file, 'v')))).to.be.below(0.3);
				expect(await decodeErrors(path.join(dir, output.file))).to.equal('');
			}
			const report = await verifyRecording(dir, { trustedPublicKeyPem: readFileSync(path.join(sfu.dataDir, 'keys', 'signing-ed25519.pub.pem'), 'utf8') });
			expect(report.problems).to.deep.equal([]);
			expect(report.segments).to.be.at.least(6);
		} finally {
			watcher.close();
		}
	});

	it('survives ffmpeg being killed: a new segment within 2 s, earlier segments intact, the gap in the manifest', async () => {
		const started = await api<{ recordingId: string }>('POST', `/api/rooms/${room}/recordings`, hostToken, {});
		const id = started.body.recordingId;
		const recording = sfu.server.recordings!.activeFor(room)!;
		await waitFor(() => recording.manifest.entries.filter((e) => e.type === 'segment' && e.participantId === host.peerId).length >= 1, 15_000, 'a first sealed segment');
		// Kill mid-segment, so the killed file holds media that must survive.
		await sleep(1500);
		const victim = recording.recorderPid(host.peerId)!;
		const killedAt = Date.now();
		process.kill(victim, 'SIGKILL');
		const replacement = await waitFor(() => {
			const pid = recording.recorderPid(host.peerId);
			return pid && pid !== victim ? pid : null;
		}, 5000, 'a new ffmpeg');
		expect(Date.now() - killedAt).to.be.below(2000);
		expect(isAlive(victim)).to.equal(false);
		expect(isAlive(replacement)).to.equal(true);
		await sleep(4000);
		await api('POST', `/api/recordings/${id}/stop`, hostToken);
		const doc = (await api<{ manifest: ManifestDocument }>('GET', `/api/recordings/${id}`, hostToken)).body.manifest;
		const mine = doc.entries.filter((e) => e.participantId === host.peerId);
		const gap = mine.find((e) => e.type === 'gap');
		expect(gap && gap.type === 'gap' && gap.reason).to.equal('recorder_restarted');
		expect(gap && gap.type === 'gap' && Date.parse(gap.to) - Date.parse(gap.from)).to.be.below(2000);
		const segments = mine.filter((e): e is SegmentEntry => e.type === 'segment');
		const partial = segments.find((s) => s.partial);
		expect(partial, 'the segment ffmpeg was writing when killed').to.not.equal(undefined);
		const dir = path.join(sfu.dataDir, 'recordings', id);
		for (const segment of segments) {
			expect(segment.durationSec, segment.file).to.be.greaterThan(0);
			// A killed segment may end mid-cluster; every complete one decodes cleanly.
			if (!segment.partial) {
				const errors = await decodeErrors(path.join(dir, segment.file));
				expect(errors, `${segment.file}: ${errors}`).to.equal('');
			}
		}
		// The killed segment keeps what was flushed: all but about the last second
		// before the kill (2 s allowed for timing slack on a loaded machine).
		const writtenUntilKill = (killedAt - Date.parse(partial!.startedAt)) / 1000;
		expect(partial!.durationSec).to.be.at.least(writtenUntilKill - 2);
		expect((await verifyRecording(dir)).problems).to.deep.equal([]);
	});

	it('the verifier names a flipped byte, a deleted segment, a swapped order and an added file', async () => {
		const [latest] = (await api<{ recordings: RecordingSummary[] }>('GET', `/api/recordings?room=${room}`, hostToken)).body.recordings;
		const source = path.join(sfu.dataDir, 'recordings', latest!.id);
		const doc = JSON.parse(readFileSync(path.join(source, 'manifest.json'), 'utf8')) as ManifestDocument;
		const segments = doc.entries.filter((e): e is SegmentEntry => e.type === 'segment');
		const scratch = mkdtempSync(path.join(tmpdir(), 'sfu-tamper-'));
		const copy = (name: string) => {
			const dir = path.join(scratch, name);
			cpSync(source, dir, { recursive: true });
			return dir;
		};
		try {
			const flipped = copy('flipped');
			const target = path.join(flipped, segments[1]!.file);
			const bytes = readFileSync(target);
			const middle = Math.floor(bytes.length / 2);
			bytes[middle] = bytes[middle]! ^ 0xff;
			writeFileSync(target, bytes);
			const flippedReport = await verifyRecording(flipped);
			expect(flippedReport.problems.map((p) => [p.kind, p.file])).to.deep.equal([['modified', segments[1]!.file]]);

			const deleted = copy('deleted');
			unlinkSync(path.join(deleted, segments[2]!.file));
			expect((await verifyRecording(deleted)).problems.map((p) => [p.kind, p.file])).to.deep.equal([['missing', segments[2]!.file]]);

			const swapped = copy('swapped');
			const a = path.join(swapped, segments[0]!.file);
			const b = path.join(swapped, segments[1]!.file);
			renameSync(a, `${a}.tmp`);
			renameSync(b, a);
			renameSync(`${a}.tmp`, b);
			const swapReport = await verifyRecording(swapped);
			expect(swapReport.problems.map((p) => p.kind)).to.deep.equal(['reordered', 'reordered']);
			expect(swapReport.problems.map((p) => p.file)).to.deep.equal([segments[0]!.file, segments[1]!.file]);

			const added = copy('added');
			cpSync(path.join(added, segments[0]!.file), path.join(added, path.dirname(segments[0]!.file), 'extra-00009.mkv'));
			expect((await verifyRecording(added)).problems.map((p) => p.kind)).to.deep.equal(['added']);

			const edited = copy('edited');
			const editedDoc = JSON.parse(readFileSync(path.join(edited, 'manifest.json'), 'utf8')) as ManifestDocument;
			editedDoc.entries.splice(1, 1);
			writeFileSync(path.join(edited, 'manifest.json'), JSON.stringify(editedDoc));
			const editedKinds = (await verifyRecording(edited)).problems.map((p) => p.kind);
			expect(editedKinds).to.include.members(['bad_signature', 'chain_broken', 'added']);

			// The CLI reports the same, with exit codes.
			const publicKey = path.join(sfu.dataDir, 'keys', 'signing-ed25519.pub.pem');
			const run = (dir: string) =>
				spawnSync(process.execPath, ['--import', 'tsx', path.join(REPO_ROOT, 'server/tools/verify-recording.ts'), dir, '--public-key', publicKey], { encoding: 'utf8' });
			const ok = run(source);
			expect(ok.status).to.equal(0);
			expect(ok.stdout).to.match(/^OK: recording/);
			const bad = run(flipped);
			expect(bad.status).to.equal(1);
			expect(bad.stdout).to.include(`modified: segment 1 (${segments[1]!.file}) was modified`);
		} finally {
			rmSync(scratch, { recursive: true, force: true });
		}
	});

	it('with consent required, records only consenting participants and stops when consent is withdrawn', async () => {
		const started = await api<{ recordingId: string }>('POST', `/api/rooms/${room}/recordings`, hostToken, { requireConsent: true });
		const id = started.body.recordingId;
		const recording = sfu.server.recordings!.activeFor(room)!;
		await sleep(1000);
		expect(recording.recordedPeerIds).to.deep.equal([]);
		const consent = (page: DemoParticipant, value: boolean) =>
			page.page.evaluate(async (v) => {
				await (globalThis as unknown as { demo: { room: { setRecordingConsent(c: boolean): Promise<void> } } }).demo.room.setRecordingConsent(v);
			}, value);
		await consent(guest, true);
		await waitFor(() => recording.recordedPeerIds.includes(guest.peerId), 5000, 'the guest being recorded');
		expect(recording.recordedPeerIds).to.deep.equal([guest.peerId]);
		await waitFor(() => recording.manifest.entries.some((e) => e.type === 'segment' && e.participantId === guest.peerId), 15_000, 'a guest segment');
		await consent(guest, false);
		await waitFor(() => recording.recordedPeerIds.length === 0, 5000, 'recording of the guest to stop');
		await waitFor(() => recording.manifest.entries.some((e) => e.type === 'gap' && e.reason === 'consent_withdrawn'), 10_000, 'the withdrawal in the manifest');
		const sealed = recording.manifest.entries.filter((e) => e.participantId === guest.peerId).length;
		await sleep(4000);
		const after = recording.manifest.entries.filter((e) => e.participantId === guest.peerId);
		expect(after.length).to.equal(sealed);
		expect(after.at(-1)).to.deep.include({ type: 'gap', reason: 'consent_withdrawn' });
		expect(recording.manifest.entries.some((e) => e.participantId === host.peerId)).to.equal(false);
		await api('POST', `/api/recordings/${id}/stop`, hostToken);
	});

	it('refuses unauthorized control and downloads, and serves byte ranges to the host', async () => {
		const listed = (await api<{ recordings: RecordingSummary[] }>('GET', `/api/recordings?room=${room}`, hostToken)).body.recordings;
		const id = listed.find((r) => r.segments > 0 && r.state !== 'recording')!.id;
		await waitFinalized(id);
		const doc = (await api<{ manifest: ManifestDocument }>('GET', `/api/recordings/${id}`, hostToken)).body.manifest;
		const file = doc.entries.find((e): e is SegmentEntry => e.type === 'segment')!.file;
		const fileRoute = `/api/recordings/${id}/files/${file}`;

		const none = await api<{ error: { code: string } }>('GET', fileRoute, null);
		expect(none.status).to.equal(401);
		expect(Object.keys(none.body)).to.deep.equal(['error']);
		const forged = await api('GET', fileRoute, await mintToken({ room, role: 'host' }, 'another-secret-0123456789'));
		expect(forged.status).to.equal(401);
		for (const token of [await mintToken({ room, role: 'clinician' }), await mintToken({ room, role: 'patient' }), await mintToken({ room: 'other-room', role: 'host' })]) {
			expect((await api('GET', fileRoute, token)).status).to.equal(403);
			expect((await api('GET', `/api/recordings/${id}`, token)).status).to.equal(403);
			expect((await api('POST', `/api/rooms/${room}/recordings`, token, {})).status).to.equal(403);
		}
		expect((await api('DELETE', `/api/recordings/${id}`, hostToken)).status).to.equal(403);
		for (const trick of [`/api/recordings/${id}/files/..%2F..%2Fkeys%2Fsigning-ed25519.pem`, `/api/recordings/${id}/files/../../keys/signing-ed25519.pem`, `/api/recordings/..%2Fkeys/files/x`]) {
			const response = await fetch(`${sfu.url}${trick}`, { headers: { authorization: `Bearer ${hostToken}` } });
			expect(response.status, trick).to.be.oneOf([400, 403, 404]);
			expect(await response.text()).to.not.include('PRIVATE KEY');
		}

		const ranged = await fetch(`${sfu.url}${fileRoute}`, { headers: { authorization: `Bearer ${hostToken}`, range: 'bytes=0-99' } });
		expect(ranged.status).to.equal(206);
		expect(ranged.headers.get('content-range')).to.match(/^bytes 0-99\/\d+$/);
		const head = Buffer.from(await ranged.arrayBuffer());
		expect(head.length).to.equal(100);
		expect(head.subarray(0, 4).toString('hex')).to.equal('1a45dfa3');

		const admin = await mintToken({ room: 'any', role: 'admin' as 'host' });
		expect((await api<{ recordings: unknown[] }>('GET', '/api/recordings', admin)).body.recordings.length).to.be.at.least(3);
		expect((await api('DELETE', `/api/recordings/${id}`, admin)).status).to.equal(204);
		expect((await api('GET', `/api/recordings/${id}`, admin)).status).to.equal(404);
	});
});
