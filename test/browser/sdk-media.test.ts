import { expect } from 'chai';
import type { Page } from 'puppeteer-core';
import { launchBrowser, type TestBrowser } from '../support/browser.js';
import { openDemo, textContentOf, waitForMediaFrom, waitForMoreFrames, type DemoParticipant } from '../support/demoPage.js';
import { waitFor } from '../support/processes.js';
import { startSfu, type TestSfu } from '../support/sfu.js';

/** What the page-side code below reaches through `window` (the test project has no DOM types). */
type LocalTrack = { deviceId: string | undefined; producerId: string | undefined };
type MediaWindow = {
	/** The demo page's handle. */
	demo: {
		room: {
			on(event: 'activeDeviceChanged', listener: (kind: string) => void): void;
			on(event: string, listener: (track: { source: string }) => void): void;
			switchActiveDevice(kind: 'videoinput' | 'audioinput', deviceId: string): Promise<void>;
			getActiveDevice(kind: 'videoinput' | 'audioinput'): string | undefined;
			localParticipant: { getTrack(source: 'camera' | 'microphone'): LocalTrack | undefined; connectionQuality: string };
			participants: Map<string, { setVideoQuality(quality: number): Promise<void>; connectionQuality: string }>;
		};
	};
	/** The SDK's IIFE global. */
	TelehealthSDK: { Room: { getLocalDevices(kind: 'videoinput' | 'audioinput'): Promise<{ deviceId: string; label: string }[]> } };
	RTCPeerConnection: { prototype: { setLocalDescription: (this: unknown, ...args: unknown[]) => Promise<void> } };
	/** Set by countNegotiations and recordTrackEvents. */
	negotiations: number;
	trackEvents: string[];
};

/** Counts SDP offers/answers a page applies: a device switch must not renegotiate. */
async function countNegotiations(page: Page): Promise<void> {
	await page.evaluateOnNewDocument(() => {
		const w = globalThis as unknown as MediaWindow;
		w.negotiations = 0;
		const prototype = w.RTCPeerConnection.prototype;
		const original = prototype.setLocalDescription;
		prototype.setLocalDescription = function (this: unknown, ...args: unknown[]) {
			w.negotiations++;
			return original.apply(this, args);
		};
	});
}

/** Records the room events a page sees, as `name:source`. */
async function recordTrackEvents(page: Page): Promise<void> {
	await page.evaluate(() => {
		const w = globalThis as unknown as MediaWindow;
		w.trackEvents = [];
		for (const name of ['trackSubscribed', 'trackUnsubscribed', 'trackPublished', 'trackUnpublished']) {
			w.demo.room.on(name, (track: { source: string }) => w.trackEvents.push(`${name}:${track.source}`));
		}
	});
}

describe('browser: SDK media features (devices, screen share, quality, stats)', function () {
	this.timeout(60_000);
	let sfu: TestSfu;
	let browser: TestBrowser;
	let site: DemoParticipant;
	let hub: DemoParticipant;

	before(async () => {
		sfu = await startSfu({ LOG_LEVEL: 'warn' });
		// Three fake cameras and three microphones, so that there is something to switch to.
		browser = await launchBrowser(['--use-fake-device-for-media-stream=device-count=3']);
		hub = await openDemo(browser, sfu.url, 'sdk-media', 'host', { name: 'Hub hospital' });
		site = await openDemo(browser, sfu.url, 'sdk-media', 'clinician', { name: 'District site', beforeLoad: countNegotiations });
		await waitForMediaFrom(hub, site);
		await waitForMediaFrom(site, hub);
		await recordTrackEvents(hub.page);
	});

	after(async () => {
		await browser?.close();
		await sfu?.close();
	});

	it('switching camera and microphone mid-call keeps the producers: no renegotiation, the other side never loses the track', async () => {
		const before = await site.page.evaluate(async () => {
			const w = globalThis as unknown as MediaWindow;
			const { Room } = w.TelehealthSDK;
			const cameras = await Room.getLocalDevices('videoinput');
			const mics = await Room.getLocalDevices('audioinput');
			const local = w.demo.room.localParticipant;
			return {
				cameras: cameras.map((d) => ({ id: d.deviceId, label: d.label })),
				mics: mics.map((d) => d.deviceId),
				camera: local.getTrack('camera')!.deviceId,
				mic: local.getTrack('microphone')!.deviceId,
				cameraProducer: local.getTrack('camera')!.producerId,
				micProducer: local.getTrack('microphone')!.producerId,
				negotiations: w.negotiations,
			};
		});
		expect(before.cameras).to.have.length(3);
		// Chromium's fake_device_1 is a Y16 "depth camera" whose frames the VP8 encoder drops;
		// fake_device_2 (MJPEG) behaves like a second USB camera.
		const otherCamera = before.cameras.find((d) => d.label === 'fake_device_2')!.id;
		expect(otherCamera).to.not.equal(before.camera);
		const otherMic = before.mics.find((id) => id !== before.mic && id !== 'default')!;
		const after = await site.page.evaluate(
			async (camera, mic) => {
				const w = globalThis as unknown as MediaWindow;
				const changed: string[] = [];
				w.demo.room.on('activeDeviceChanged', (kind: string) => changed.push(kind));
				const t0 = performance.now();
				await w.demo.room.switchActiveDevice('videoinput', camera);
				const t1 = performance.now();
				await w.demo.room.switchActiveDevice('audioinput', mic);
				const t2 = performance.now();
				const local = w.demo.room.localParticipant;
				return {
					camera: local.getTrack('camera')!.deviceId,
					mic: local.getTrack('microphone')!.deviceId,
					cameraProducer: local.getTrack('camera')!.producerId,
					micProducer: local.getTrack('microphone')!.producerId,
					activeCamera: w.demo.room.getActiveDevice('videoinput'),
					negotiations: w.negotiations,
					changed,
					cameraMs: Math.round(t1 - t0),
					micMs: Math.round(t2 - t1),
				};
			},
			otherCamera,
			otherMic,
		);
		expect(after.camera).to.equal(otherCamera);
		expect(after.activeCamera).to.equal(otherCamera);
		expect(after.mic).to.equal(otherMic);
		expect(after.cameraProducer).to.equal(before.cameraProducer);
		expect(after.micProducer).to.equal(before.micProducer);
		expect(after.negotiations).to.equal(before.negotiations);
		expect(after.changed).to.deep.equal(['videoinput', 'audioinput']);
		await waitForMoreFrames(hub, site, 15);
		const audio = (await hub.inbound(site.peerId, 'audio'))!.packetsReceived;
		await waitFor(async () => (await hub.inbound(site.peerId, 'audio'))!.packetsReceived > audio + 20, 5000, 'audio after the switch');
		expect(await hub.page.evaluate(() => (globalThis as unknown as MediaWindow).trackEvents)).to.deep.equal([]);
		console.log(`      camera switched in ${after.cameraMs} ms, microphone in ${after.micMs} ms, ${after.negotiations - before.negotiations} renegotiations`);
	});

	it('a screen share appears at the other side, and disappears when it stops', async () => {
		await site.page.click('#toggle-screen');
		await waitFor(
			async () => (await hub.stats()).find((t) => t.direction === 'inbound' && t.source === 'screen' && t.framesDecoded > 0),
			15_000,
			'screen frames at the hub',
		);
		await hub.page.waitForSelector('#presentation .tile.screen.has-video', { timeout: 5000 });
		expect(await textContentOf(site.page, '#toggle-screen')).to.equal('Stop sharing');
		await site.page.click('#toggle-screen');
		await waitFor(() => hub.page.$('#presentation .tile').then((el) => el === null), 10_000, 'the screen tile removed');
		expect(await hub.page.evaluate(() => (globalThis as unknown as MediaWindow).trackEvents)).to.deep.equal([
			'trackPublished:screen',
			'trackSubscribed:screen',
			'trackUnsubscribed:screen',
			'trackUnpublished:screen',
		]);
	});

	it('per-participant video quality changes the received resolution (low / high simulcast layer)', async () => {
		const setQuality = (quality: number) =>
			hub.page.evaluate(
				async (peerId, q) => {
					const w = globalThis as unknown as MediaWindow;
					await w.demo.room.participants.get(peerId)!.setVideoQuality(q);
				},
				site.peerId,
				quality,
			);
		const width = async () => (await hub.inbound(site.peerId, 'video'))!.frameWidth;
		// Bandwidth estimation starts low, so the first layer received may be the middle one:
		// ask for the top layer and take the width once it has stopped growing.
		await setQuality(2);
		let settled = { width: 0, since: Date.now() };
		const high = await waitFor(async () => {
			const current = await width();
			if (!current) return null;
			if (current > settled.width) settled = { width: current, since: Date.now() };
			return Date.now() - settled.since >= 2000 ? settled.width : null;
		}, 20_000, 'the top layer received');
		let t = Date.now();
		await setQuality(0);
		const low = await waitFor(async () => ((await width()) <= high / 4 ? width() : null), 15_000, 'the low layer');
		const toLow = Date.now() - t;
		t = Date.now();
		await setQuality(2);
		// A busy machine's encoder may lower the top layer's size meanwhile; what matters is
		// leaving the low layer for the top one.
		await waitFor(async () => (await width()) >= high / 2, 15_000, 'the high layer again');
		const toHigh = Date.now() - t;
		expect(low).to.be.at.most(high / 4);
		console.log(`      ${high}px → ${low}px in ${toLow} ms, back to ${high}px in ${toHigh} ms`);
	});

	it('simplified stats and connection quality per participant', async () => {
		await waitFor(
			() => hub.page.evaluate((id) => (globalThis as unknown as MediaWindow).demo.room.participants.get(id)!.connectionQuality === 'excellent', site.peerId),
			10_000,
			'the site rated excellent on loopback',
		);
		const stats = await waitFor(async () => {
			const video = await hub.inbound(site.peerId, 'video');
			return video && (video as unknown as { bitrate: number }).bitrate > 0 ? (video as unknown as Record<string, number>) : null;
		}, 10_000, 'video stats with a bitrate');
		expect(stats['frameWidth']).to.be.greaterThan(0);
		expect(stats['framesPerSecond']).to.be.greaterThan(0);
		expect(stats['packetLossPercent']).to.be.a('number');
		expect(stats['roundTripTime']).to.be.a('number');
		const outbound = (await site.stats()).find((s) => s.direction === 'outbound' && s.kind === 'video') as unknown as Record<string, number>;
		expect(outbound['bitrate']).to.be.greaterThan(0);
		expect(await site.page.evaluate(() => (globalThis as unknown as MediaWindow).demo.room.localParticipant.connectionQuality)).to.equal('excellent');
	});

	it('no page logged a console error', () => {
		expect(browser.errors).to.deep.equal([]);
	});
});
