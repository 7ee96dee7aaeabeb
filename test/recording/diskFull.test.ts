import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { ManifestDocument } from '../../server/recording/index.js';
import { verifyRecording } from '../../server/recording/index.js';
import { launchBrowser, type TestBrowser } from '../support/browser.js';
import { openDemo } from '../support/demoPage.js';
import { waitFor } from '../support/processes.js';
import { mintToken, startSfu, TestClient, type TestSfu } from '../support/sfu.js';

describe('recording: a filling disk', function () {
	this.timeout(90_000);
	let mountPoint: string | null = null;
	let sfu: TestSfu | undefined;
	let browser: TestBrowser | undefined;

	before(function () {
		// A real, small file system of our own: 12 MiB of tmpfs.
		const dir = mkdtempSync(path.join(tmpdir(), 'sfu-small-disk-'));
		const mount = spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=12m', 'tmpfs', dir], { encoding: 'utf8' });
		if (mount.status !== 0) {
			rmSync(dir, { recursive: true, force: true });
			console.log(`      (skipped: cannot mount a tmpfs here: ${mount.stderr.trim()})`);
			this.skip();
		}
		mountPoint = dir;
	});

	after(async () => {
		await browser?.close();
		await sfu?.close();
		if (mountPoint) {
			spawnSync('umount', [mountPoint]);
			rmSync(mountPoint, { recursive: true, force: true });
		}
	});

	it('stops the recording with disk_full before the disk is full, tells the host, and keeps every sealed segment', async () => {
		// Keep 11 of the 12 MiB free: the recording stops after about 1 MiB.
		sfu = await startSfu({ RECORDINGS_DIR: mountPoint!, RECORDING_MIN_FREE_MB: '11', RECORDING_SEGMENT_SECONDS: '2', ROOM_WAITING_ROOM: 'false' });
		browser = await launchBrowser();
		const room = 'small-disk';
		await openDemo(browser, sfu.url, room, 'clinician');
		const host = await TestClient.connect(sfu.url, { token: await mintToken({ room, role: 'host' }) });
		try {
			await host.ok('join', { protocolVersion: 1 });
			const { recordingId } = await host.ok('startRecording', {});
			const stopped = await host.waitForNotification('recordingState', (d) => d.recordingId === recordingId && !d.active, 60_000);
			expect(stopped.error?.code).to.equal('disk_full');
			expect(stopped.error?.message).to.match(/full/);
			const dir = path.join(mountPoint!, recordingId);
			const doc = JSON.parse(readFileSync(path.join(dir, 'manifest.json'), 'utf8')) as ManifestDocument;
			expect(doc.state).to.equal('failed');
			expect(doc.error?.code).to.equal('disk_full');
			expect(doc.entries.filter((e) => e.type === 'segment').length).to.be.at.least(1);
			expect((await verifyRecording(dir)).problems).to.deep.equal([]);
			expect(sfu.logs.some((line) => line['msg'] === 'recordings disk nearly full: stopping recordings' && line['level'] === 50)).to.equal(true);
			// No new recording while the disk stays full.
			const refused = await host.request('startRecording', {});
			expect(!refused.ok && refused.error.code).to.equal('unavailable');
			await waitFor(() => sfu!.server.recordings!.activeRecordings().length === 0, 5000, 'no active recording');
		} finally {
			host.close();
		}
	});
});
