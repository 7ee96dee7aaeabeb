import { expect } from 'chai';
import type { Page } from 'puppeteer-core';
import { launchBrowser, type TestBrowser } from '../support/browser.js';
import { openDemo, textContentOf, waitForMediaFrom, type DemoParticipant } from '../support/demoPage.js';
import { waitFor } from '../support/processes.js';
import { saveScreenshot } from '../support/screenshots.js';
import { mintToken, startSfu, type TestSfu } from '../support/sfu.js';

type PageWindow = { demo: { state: string; presenterId?: string | null; stats?: Record<string, { frameWidth: number; framesPerSecond: number; bitrate: number }> } };

const VIEWPORT = { width: 1280, height: 760 };

/**
 * The three demo pages as a person sees them: a consult (host controls with a
 * patient in the waiting room, then three participants), the grand-round
 * viewer, and the device-stream monitor. Saves a PNG of each to
 * .test-output/screenshots/ and checks the pages logged no console errors.
 */
describe('browser: the demo portal pages', function () {
	this.timeout(90_000);
	let sfu: TestSfu;
	let browser: TestBrowser;
	const room = 'ward-7-consult';

	before(async () => {
		sfu = await startSfu({ LOG_LEVEL: 'warn' });
		browser = await launchBrowser();
	});

	after(async () => {
		await browser?.close();
		await sfu?.close();
	});

	let host: DemoParticipant;
	let clinician: DemoParticipant;
	let patient: DemoParticipant;
	let monitorPage: Page | undefined;

	it('consult: the host admits a waiting patient from the waiting-room panel', async () => {
		host = await openDemo(browser, sfu.url, room, 'host', { name: 'Dr. Amara Osei', viewport: VIEWPORT });
		clinician = await openDemo(browser, sfu.url, room, 'clinician', { name: 'Dr. Lena Fischer', viewport: VIEWPORT });
		patient = await openDemo(browser, sfu.url, room, 'patient', { name: 'Jonas Weber', viewport: VIEWPORT, waitState: 'waiting' });
		await host.page.waitForSelector(`#waiting-list li[data-peer-id="${patient.peerId}"] button.primary`, { timeout: 10_000 });
		await waitForMediaFrom(host, clinician);
		await saveScreenshot(patient.page, 'consult-patient-waiting');
		await saveScreenshot(host.page, 'consult-host-waiting-patient');
		expect(await textContentOf(host.page, '#waiting-count')).to.equal('1');

		await host.page.click(`#waiting-list li[data-peer-id="${patient.peerId}"] button.primary`);
		await patient.page.waitForFunction(() => (globalThis as unknown as PageWindow).demo.state === 'joined', { timeout: 15_000, polling: 100 });
		await waitForMediaFrom(host, patient);
		await waitForMediaFrom(patient, host);
		await waitForMediaFrom(patient, clinician);
		expect(await host.page.$$eval('#grid .tile', (tiles) => tiles.length)).to.equal(3);
		await saveScreenshot(host.page, 'consult-host-three-participants');
		await saveScreenshot(patient.page, 'consult-patient');
	});

	it('consult on a phone (390 × 844): the others first and large, the patient’s own camera small, nothing cut off or scrolling sideways', async () => {
		const phone = await openDemo(browser, sfu.url, room, 'patient', { name: 'Ana Phone', sub: 'phone-patient', viewport: { width: 390, height: 844 }, waitState: 'waiting' });
		await host.page.evaluate((id) => (globalThis as unknown as { demo: { room: { admit(id: string): Promise<void> } } }).demo.room.admit(id), phone.peerId);
		await phone.page.waitForFunction(() => (globalThis as unknown as PageWindow).demo.state === 'joined', { timeout: 15_000, polling: 100 });
		await waitForMediaFrom(phone, host);
		await phone.page.waitForSelector('#toggle-mic:not([hidden])', { timeout: 10_000 });
		type Box = { left: number; right: number; top: number; bottom: number; width: number; height: number };
		// tsx (esbuild keepNames) wraps named arrow functions in __name(): give the page one.
		await phone.page.evaluate('globalThis.__name = globalThis.__name || ((f) => f)');
		const layout = await phone.page.evaluate(() => {
			const d = (globalThis as unknown as { document: { documentElement: { scrollWidth: number; clientWidth: number }; querySelector(s: string): { getBoundingClientRect(): Box } | null; querySelectorAll(s: string): Iterable<{ getBoundingClientRect(): Box; classList: { contains(c: string): boolean }; hidden: boolean }> } }).document;
			const plain = (r: Box): Box => ({ left: r.left, right: r.right, top: r.top, bottom: r.bottom, width: r.width, height: r.height });
			const box = (s: string): Box | null => {
				const r = d.querySelector(s)?.getBoundingClientRect();
				return r ? plain(r) : null;
			};
			const tiles = [...d.querySelectorAll('#grid .tile')].map((t) => ({ local: t.classList.contains('local'), ...plain(t.getBoundingClientRect()) }));
			const buttons = [...d.querySelectorAll('#controls button')].filter((b) => !b.hidden).map((b) => plain(b.getBoundingClientRect())).filter((r) => r.width > 0);
			return { scrollWidth: d.documentElement.scrollWidth, clientWidth: d.documentElement.clientWidth, state: box('#state'), tiles, buttons };
		});
		await saveScreenshot(phone.page, 'consult-patient-phone');
		// Leave first: the cases after this one count the room's participants.
		await phone.page.evaluate(() => (globalThis as unknown as { demo: { room: { leave(): Promise<void> } } }).demo.room.leave());
		await phone.page.close();
		const seen = JSON.stringify(layout);
		expect(layout.scrollWidth, seen).to.be.at.most(layout.clientWidth);
		expect(layout.state!.left, seen).to.be.at.least(0);
		expect(layout.state!.right, seen).to.be.at.most(390);
		for (const b of layout.buttons) {
			expect(b.left, seen).to.be.at.least(0);
			expect(b.right, seen).to.be.at.most(390);
			expect(b.bottom, seen).to.be.at.most(844);
		}
		const own = layout.tiles.find((t) => t.local)!;
		const others = layout.tiles.filter((t) => !t.local);
		expect(others.length, seen).to.be.greaterThan(0);
		const first = others.reduce((a, b) => (a.top <= b.top ? a : b));
		// The clinician's video comes first (at the top) and is large; the patient's own camera is small.
		expect(first.width, seen).to.be.at.least(0.9 * 390 - 20);
		expect(first.top, seen).to.be.at.most(own.top);
		expect(own.width * own.height, seen).to.be.below(0.5 * first.width * first.height);
	});

	it('consult: the host mutes the patient from the patient’s tile', async () => {
		await host.page.bringToFront();
		await host.page.click(`#grid .tile[data-peer-id="${patient.peerId}"] .host-actions button`);
		await patient.page.waitForFunction(`document.querySelector('#toggle-mic')?.textContent === 'Unmute'`, { timeout: 5000, polling: 100 });
		await host.page.waitForSelector(`#grid .tile[data-peer-id="${patient.peerId}"] [data-badge="muted"]`, { timeout: 5000 });
		await saveScreenshot(patient.page, 'consult-patient-muted-by-host');
		await patient.page.click('#toggle-mic');
		await host.page.waitForFunction(`!document.querySelector('#grid .tile[data-peer-id="${patient.peerId}"] [data-badge="muted"]')`, { timeout: 5000, polling: 100 });
	});

	it('consult: an expired link says so in words', async () => {
		const page = await browser.newPage();
		await page.setViewport(VIEWPORT);
		const expired = await mintToken({ room, role: 'patient', name: 'Late patient', ttl: -120 });
		await page.goto(`${sfu.url}/demo/?room=${room}#token=${expired}`);
		await page.waitForFunction(() => (globalThis as unknown as PageWindow).demo.state === 'error', { timeout: 10_000, polling: 100 });
		expect(await textContentOf(page, '#status-text')).to.match(/expired.*\[auth_token_expired\]/);
		await saveScreenshot(page, 'consult-link-expired');
		await page.close();
	});

	it('consult: a real recording shows the banner and the consent prompt, and consenting records the patient', async () => {
		const isHidden = (page: typeof patient.page, selector: string) => page.$eval(selector, (el) => (el as unknown as { hidden: boolean }).hidden);
		await host.page.evaluate(async () => {
			await (globalThis as unknown as { demo: { room: { startRecording(o: { requireConsent: boolean }): Promise<string> } } }).demo.room.startRecording({ requireConsent: true });
		});
		await waitFor(async () => !(await isHidden(patient.page, '#recording')) && !(await isHidden(patient.page, '#consent')), 10_000, 'the banner and the consent prompt');
		await saveScreenshot(patient.page, 'consult-recording-consent');
		await patient.page.click('#consent-yes');
		const recording = () => sfu.server.recordings!.activeFor(room);
		await waitFor(() => recording()?.recordedPeerIds.includes(patient.peerId), 10_000, 'the consenting patient being recorded');
		expect(await isHidden(patient.page, '#consent')).to.equal(true);
		await host.page.evaluate(async () => {
			await (globalThis as unknown as { demo: { room: { stopRecording(): Promise<void> } } }).demo.room.stopRecording();
		});
		await waitFor(async () => isHidden(patient.page, '#recording'), 10_000, 'the banner to go');
	});

	it('grand round: an observer watches the presenter large and can pin another', async () => {
		const viewer = await openDemo(browser, sfu.url, room, 'observer', { name: 'Resident', path: '/demo/grand-round.html', viewport: VIEWPORT });
		await waitForMediaFrom(viewer, host);
		await waitFor(
			() => viewer.page.$$eval('#presenters li', (items) => items.length === 4),
			10_000,
			'three presenters and "follow the speaker" in the list',
		);
		await viewer.page.click(`#presenters li[data-peer-id="${clinician.peerId}"]`);
		await waitFor(() => viewer.page.evaluate((id) => (globalThis as unknown as PageWindow).demo.presenterId === id, clinician.peerId), 5000, 'the pinned presenter');
		// The stage decodes the presenter at a large size.
		await waitFor(
			async () => ((await viewer.inbound(clinician.peerId, 'video'))?.frameWidth ?? 0) >= 640,
			15_000,
			'the presenter in a high layer',
		);
		expect((await viewer.stats()).filter((t) => t.direction === 'outbound')).to.deep.equal([]);
		await saveScreenshot(viewer.page, 'grand-round-viewer');
		await viewer.page.close();
	});

	it('device monitor: a device stream shown large with its resolution, frame rate and bitrate', async () => {
		await patient.page.close();
		await clinician.page.close();
		const device = await openDemo(browser, sfu.url, room, 'device', { name: 'Endoscopy tower 2' });
		const monitor = await openDemo(browser, sfu.url, room, 'clinician', { name: 'Dr. Lena Fischer (monitor)', path: '/demo/device.html', viewport: VIEWPORT });
		await monitor.page.waitForSelector('#device-grid .tile.device', { timeout: 15_000 });
		const stats = await waitFor(
			() =>
				monitor.page.evaluate(() => {
					const all = Object.values((globalThis as unknown as PageWindow).demo.stats ?? {});
					return all.find((s) => s.frameWidth > 0 && s.framesPerSecond > 0 && s.bitrate > 0) ?? null;
				}),
			15_000,
			'device stream statistics',
		);
		expect(stats.frameWidth).to.be.greaterThan(0);
		// The monitor receives the device stream only, not the host's camera.
		const inbound = (await monitor.stats()).filter((t) => t.direction === 'inbound');
		expect(inbound.map((t) => t.source)).to.deep.equal(['device']);
		expect(inbound[0]!.participantId).to.equal(device.peerId);
		await saveScreenshot(monitor.page, 'device-monitor');
		monitorPage = monitor.page;
	});

	it('the host ends the visit (two clicks) and every page says it ended', async () => {
		await host.page.bringToFront();
		await host.page.click('#end-room');
		expect(await textContentOf(host.page, '#end-room')).to.match(/again/);
		await host.page.click('#end-room');
		await host.page.waitForFunction(() => (globalThis as unknown as PageWindow).demo.state === 'room-closed', { timeout: 10_000, polling: 100 });
		await monitorPage!.waitForFunction(() => (globalThis as unknown as PageWindow).demo.state === 'room-closed', { timeout: 10_000, polling: 100 });
		await saveScreenshot(host.page, 'consult-ended');
	});

	it('no page logged a console error', () => {
		expect(browser.errors).to.deep.equal([]);
	});
});
