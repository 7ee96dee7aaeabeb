import { expect } from 'chai';
import type { Page } from 'puppeteer-core';
import { launchBrowser, type TestBrowser } from '../support/browser.js';
import { openDemo, waitForMediaFrom, waitForMoreFrames, type DemoParticipant } from '../support/demoPage.js';
import { MediaRelay, routeMediaThroughRelay } from '../support/mediaRelay.js';
import { waitFor } from '../support/processes.js';
import { saveScreenshot } from '../support/screenshots.js';
import { startSfu, type TestSfu } from '../support/sfu.js';

/*
 * Pulling the network for one Chromium tab, for real. Measured in Chromium 156:
 * `page.setOfflineMode(true)` (CDP network emulation) closes the tab's
 * WebSocket at once and fails every new connection, and fires the `offline`
 * event — but WebRTC keeps flowing: media ran on untouched through a 14 s
 * "offline" period. So the test cuts both paths itself:
 * - signaling: CDP offline mode (the WebSocket drops, reconnect attempts fail
 *   until the network is back);
 * - media: the tab's ICE candidates are rewritten to a UDP relay owned by the
 *   test (TCP candidates removed), which drops every datagram while "down".
 * Both are restored together after the outage. The application (the demo
 * page) does nothing: the SDK must bring media back by itself.
 */

type NetWindow = {
	demo: { room: { on(e: string, l: (...a: unknown[]) => void): void; localParticipant: { id: string }; participants: Map<string, { connectionQuality: string }> } };
	netLog?: { event: string; at: number; info?: unknown }[];
};

async function recordConnectionEvents(page: Page): Promise<void> {
	await page.evaluate(() => {
		const w = globalThis as unknown as NetWindow;
		w.netLog = [];
		for (const event of ['reconnecting', 'reconnected', 'disconnected']) {
			w.demo.room.on(event, (info) => w.netLog!.push({ event, at: Date.now(), info }));
		}
	});
}

async function events(page: Page): Promise<{ event: string; at: number; info?: unknown }[]> {
	return page.evaluate(() => (globalThis as unknown as NetWindow).netLog ?? []);
}

async function qualitySeenBy(viewer: DemoParticipant, peerId: string): Promise<string | undefined> {
	return viewer.page.evaluate((id) => (globalThis as unknown as NetWindow).demo.room.participants.get(id)?.connectionQuality, peerId);
}

async function framesFrom(viewer: DemoParticipant, sender: string): Promise<number> {
	return (await viewer.inbound(sender, 'video'))?.framesDecoded ?? 0;
}

describe('browser: pulling the network for 10 s and giving it back', function () {
	this.timeout(60_000);
	let browser: TestBrowser;
	const cleanups: (() => Promise<void>)[] = [];

	before(async () => {
		browser = await launchBrowser();
	});

	afterEach(async () => {
		for (const cleanup of cleanups.splice(0).reverse()) await cleanup().catch(() => undefined);
	});

	after(async () => {
		await browser?.close();
	});

	/** A consult between a host (healthy network) and a district site whose network the test controls. */
	async function consult(sfuEnv: Record<string, string>, room: string) {
		const sfu: TestSfu = await startSfu({ LOG_LEVEL: 'warn', ...sfuEnv });
		cleanups.push(() => sfu.close());
		const relay = new MediaRelay();
		cleanups.push(() => relay.close());
		const host = await openDemo(browser, sfu.url, room, 'host', { name: 'Dr. Hub' });
		cleanups.push(() => host.page.close());
		const site = await openDemo(browser, sfu.url, room, 'clinician', {
			name: 'District site',
			viewport: { width: 1280, height: 760 },
			beforeLoad: (page) => routeMediaThroughRelay(page, relay),
		});
		cleanups.push(() => site.page.close());
		await waitForMediaFrom(host, site);
		await waitForMediaFrom(site, host);
		await recordConnectionEvents(site.page);
		return { sfu, relay, host, site };
	}

	async function pull(site: DemoParticipant, relay: MediaRelay, signaling = true): Promise<void> {
		relay.down = true;
		if (signaling) await site.page.setOfflineMode(true);
	}

	async function restore(site: DemoParticipant, relay: MediaRelay): Promise<number> {
		relay.down = false;
		await site.page.setOfflineMode(false);
		return Date.now();
	}

	it('inside the grace period: reconnecting, then reconnected (resumed) and frames flow both ways again', async () => {
		const { relay, host, site } = await consult({}, 'outage-resume');
		await pull(site, relay);
		const pulledAt = Date.now();
		await waitFor(async () => (await events(site.page)).some((e) => e.event === 'reconnecting'), 5000, 'reconnecting');
		// The outage is real: the host stops receiving the site's video and sees its quality as lost.
		await waitFor(async () => (await qualitySeenBy(host, site.peerId)) === 'lost', 9000, 'the site seen as lost');
		const frozen = await framesFrom(host, site.peerId);
		await saveScreenshot(site.page, 'consult-reconnecting');
		await new Promise((resolve) => setTimeout(resolve, Math.max(0, 10_000 - (Date.now() - pulledAt))));
		expect(await framesFrom(host, site.peerId)).to.be.at.most(frozen + 2);
		expect(relay.dropped).to.be.greaterThan(100);

		const restoredAt = await restore(site, relay);
		const reconnected = await waitFor(async () => (await events(site.page)).find((e) => e.event === 'reconnected'), 20_000, 'reconnected');
		const before = await framesFrom(host, site.peerId);
		await waitFor(async () => (await framesFrom(host, site.peerId)) > before, 15_000, 'a new frame from the site');
		const firstFrame = Date.now() - restoredAt;
		await waitForMoreFrames(host, site, 10, 15_000);
		await waitForMoreFrames(site, host, 10, 15_000);
		const log = await events(site.page);
		expect(log.map((e) => e.event)).to.deep.equal(['reconnecting', 'reconnected']);
		expect(reconnected.info).to.include({ resumed: true });
		console.log(`      outage 10 s: reconnected ${reconnected.at - restoredAt} ms after the network returned; the host decoded a new frame of the site after ${firstFrame} ms`);
		await waitFor(async () => ['excellent', 'good'].includes((await qualitySeenBy(host, site.peerId)) ?? ''), 10_000, 'the site seen as connected again');
	});

	it('after the grace period: the server forgot the site, which rejoins by itself (rebuilt) and media flows', async () => {
		const { relay, host, site } = await consult({ PEER_GRACE_PERIOD_MS: '2000' }, 'outage-rebuild');
		await pull(site, relay);
		// The host's room removes the site once its grace period is over.
		await waitFor(() => host.page.evaluate((id) => !(globalThis as unknown as NetWindow).demo.room.participants.has(id), site.peerId), 10_000, 'the site removed');
		await new Promise((resolve) => setTimeout(resolve, 2000));
		const restoredAt = await restore(site, relay);
		const reconnected = await waitFor(async () => (await events(site.page)).find((e) => e.event === 'reconnected'), 20_000, 'reconnected');
		expect(reconnected.info).to.include({ resumed: false });
		const newId = await site.page.evaluate(() => (globalThis as unknown as NetWindow).demo.room.localParticipant.id);
		expect(newId).to.not.equal(site.peerId);
		const rejoined = { ...site, peerId: newId };
		await waitForMediaFrom(host, rejoined, 15_000);
		await waitForMoreFrames(rejoined, host, 10, 15_000);
		console.log(`      rebuilt session: reconnected ${reconnected.at - restoredAt} ms after the network returned`);
	});

	it('media path lost while signaling stays up (VPN toggle, UDP blocked): ICE restarts bring media back', async () => {
		const { relay, host, site } = await consult({}, 'outage-media');
		await pull(site, relay, false);
		const pulledAt = Date.now();
		const lost = await waitFor(async () => (await events(site.page)).find((e) => e.event === 'reconnecting'), 10_000, 'reconnecting');
		expect(lost.info).to.equal('media_lost');
		await new Promise((resolve) => setTimeout(resolve, 3000));
		const restoredAt = await restore(site, relay);
		const reconnected = await waitFor(async () => (await events(site.page)).find((e) => e.event === 'reconnected'), 20_000, 'reconnected');
		expect(reconnected.info).to.include({ resumed: true, reason: 'media_lost' });
		await waitForMoreFrames(host, site, 10, 15_000);
		await waitForMoreFrames(site, host, 10, 15_000);
		console.log(`      media-only loss: reported after ${lost.at - pulledAt} ms; reconnected ${reconnected.at - restoredAt} ms after the path returned`);
	});

	it('no page logged a console error (but Chromium’s own failed-connection lines during the outage)', () => {
		// Chromium itself logs each WebSocket attempt refused while offline; no page script can prevent that.
		const offline = /^WebSocket connection to .* failed: .*ERR_INTERNET_DISCONNECTED/;
		expect(browser.errors.filter((e) => !offline.test(e))).to.deep.equal([]);
	});
});
