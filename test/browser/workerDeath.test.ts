import { expect } from 'chai';
import { launchBrowser, type TestBrowser } from '../support/browser.js';
import { openDemo, waitForMediaFrom, type DemoParticipant } from '../support/demoPage.js';
import { waitFor } from '../support/processes.js';
import { startSfu, type TestSfu } from '../support/sfu.js';

/** The participant's current peer id (a full rejoin gives a new one). */
async function currentId(participant: DemoParticipant): Promise<string> {
	return participant.page.evaluate(() => (globalThis as unknown as { demo: { room: { localParticipant: { id: string } } } }).demo.room.localParticipant.id);
}

describe('browser: a mediasoup worker dies under a consult', function () {
	this.timeout(90_000);
	let sfu: TestSfu;
	let browser: TestBrowser;

	before(async () => {
		sfu = await startSfu({ MEDIASOUP_NUM_WORKERS: '2', WORKER_RESPAWN_DELAY_MS: '100', ROOM_WAITING_ROOM: 'false' });
		browser = await launchBrowser();
	});
	after(async () => {
		await browser?.close();
		await sfu?.close();
	});

	it('rebuilds the room on a live worker and the SDK clients get media back by themselves within 5 s', async () => {
		const room = 'worker-crash';
		const a = await openDemo(browser, sfu.url, room, 'host');
		const b = await openDemo(browser, sfu.url, room, 'clinician');
		await waitForMediaFrom(a, b);
		await waitForMediaFrom(b, a);
		const victim = sfu.server.rooms.get(room)!.media.routers[0]!.worker.pid;
		const killedAt = Date.now();
		process.kill(victim, 'SIGKILL');
		// Both sides rejoin (new peer ids) and decode each other again.
		const ids = await waitFor(
			async () => {
				const [idA, idB] = [await currentId(a), await currentId(b)];
				return idA !== a.peerId && idB !== b.peerId ? { idA, idB } : null;
			},
			10_000,
			'both participants to rejoin',
		);
		await waitForMediaFrom({ ...a, peerId: ids.idA }, { ...b, peerId: ids.idB }, 10_000);
		await waitForMediaFrom({ ...b, peerId: ids.idB }, { ...a, peerId: ids.idA }, 10_000);
		const seconds = (Date.now() - killedAt) / 1000;
		expect(seconds).to.be.below(5);
		const rebuilt = sfu.server.rooms.get(room)!;
		expect(rebuilt.media.routers.every((r) => r.worker.pid !== victim)).to.equal(true);
	});
});
