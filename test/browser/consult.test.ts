import { expect } from 'chai';
import { launchBrowser, type TestBrowser } from '../support/browser.js';
import { openDemo, waitForMediaFrom, waitForMoreFrames, type DemoParticipant } from '../support/demoPage.js';
import { waitFor } from '../support/processes.js';
import { startSfu, type TestSfu } from '../support/sfu.js';

type DemoWindow = {
	demo: {
		room: {
			participants: Map<string, { tracks: Map<string, { kind: string; setPreferredLayers(s: number, t?: number): Promise<void> }> }>;
			simulateSignalingDrop(): void;
			on(event: string, listener: () => void): void;
			localParticipant: { tracks?: Map<string, unknown> };
		};
	};
	TelehealthSDK: { RoomEvent: Record<string, string> };
	reconnected?: number;
};

describe('browser: a consult in Chromium', function () {
	this.timeout(120_000);
	let sfu: TestSfu;
	let browser: TestBrowser;
	const room = 'consult-chromium';
	let host: DemoParticipant;
	let specialist: DemoParticipant;
	let remote: DemoParticipant;

	before(async () => {
		// A consumer budget of 2 on 2 workers: the third site lands on the second worker.
		sfu = await startSfu({ MEDIASOUP_NUM_WORKERS: '2', ROUTER_CONSUMER_BUDGET: '2', PEER_GRACE_PERIOD_MS: '20000', LOG_LEVEL: 'info' });
		browser = await launchBrowser();
	});

	after(async () => {
		await browser?.close();
		await sfu?.close();
	});

	it('three sites each decode the others’ video and audio, across two workers', async () => {
		host = await openDemo(browser, sfu.url, room, 'host');
		specialist = await openDemo(browser, sfu.url, room, 'clinician');
		await waitForMediaFrom(host, specialist);
		await waitForMediaFrom(specialist, host);
		remote = await openDemo(browser, sfu.url, room, 'clinician');
		const all = [host, specialist, remote];
		for (const viewer of all) {
			for (const sender of all) if (sender !== viewer) await waitForMediaFrom(viewer, sender);
		}
		const routers = sfu.server.rooms.get(room)!.media.routers;
		expect(routers).to.have.length(2);
		expect(new Set(routers.map((r) => r.worker.pid)).size).to.equal(2);
		expect(browser.errors).to.deep.equal([]);
	});

	it('switches simulcast layers: the received resolution follows the preferred layer', async () => {
		const full = (await host.inbound(specialist.peerId, 'video'))!.frameWidth;
		expect(full).to.be.greaterThan(0);
		const setLayer = (spatial: number) =>
			host.page.evaluate(
				async (peerId, layer) => {
					const participant = (globalThis as unknown as DemoWindow).demo.room.participants.get(peerId)!;
					const video = [...participant.tracks.values()].find((t) => t.kind === 'video')!;
					await video.setPreferredLayers(layer);
				},
				specialist.peerId,
				spatial,
			);
		await setLayer(0);
		const low = await waitFor(
			async () => {
				const width = (await host.inbound(specialist.peerId, 'video'))!.frameWidth;
				return width > 0 && width <= full / 2 ? width : null;
			},
			15_000,
			'the lowest simulcast layer',
		);
		expect(low).to.be.at.most(full / 2);
		await setLayer(2);
		await waitFor(async () => (await host.inbound(specialist.peerId, 'video'))!.frameWidth > low, 15_000, 'the highest layer again');
	});

	it('a site whose signaling drops resumes inside the grace period and media flows again', async () => {
		const peersBefore = sfu.server.counts().peers;
		await remote.page.evaluate(() => {
			const w = globalThis as unknown as DemoWindow;
			w.reconnected = 0;
			w.demo.room.on(w.TelehealthSDK.RoomEvent['Reconnected']!, () => (w.reconnected = (w.reconnected ?? 0) + 1));
			w.demo.room.simulateSignalingDrop();
		});
		await remote.page.waitForFunction(() => ((globalThis as unknown as DemoWindow).reconnected ?? 0) > 0, { timeout: 20_000 });
		expect(sfu.server.counts().peers).to.equal(peersBefore);
		await waitForMoreFrames(remote, host);
		await waitForMoreFrames(host, remote);
		await waitForMoreFrames(specialist, remote);
	});

	it('an observer watches but publishes nothing', async () => {
		const producersBefore = sfu.server.counts().producers;
		const observer = await openDemo(browser, sfu.url, room, 'observer');
		await waitForMediaFrom(observer, host);
		const outbound = (await observer.stats()).filter((t) => t.direction === 'outbound');
		expect(outbound).to.deep.equal([]);
		expect(sfu.server.counts().producers).to.equal(producersBefore);
		await observer.page.close();
	});
});
