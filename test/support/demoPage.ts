import type { Page } from 'puppeteer-core';
import type { Role } from '../../server/protocol/index.js';
import { waitFor } from './processes.js';
import { mintToken } from './sfu.js';
import type { TestBrowser } from './browser.js';

/** A few fields of the SDK's TrackStats, as the tests read them. */
export interface ReceivedTrack {
	direction: 'inbound' | 'outbound';
	participantId: string;
	producerId: string;
	kind: 'audio' | 'video';
	source: string;
	framesDecoded: number;
	packetsReceived: number;
	frameWidth: number;
}

/** One participant: a Chromium tab on the demo page, joined with a minted token. */
export interface DemoParticipant {
	page: Page;
	peerId: string;
	stats(): Promise<ReceivedTrack[]>;
	inbound(fromPeerId: string, kind: 'audio' | 'video'): Promise<ReceivedTrack | undefined>;
}

/** Opens `/demo/?room=R#token=T` exactly as a portal would link it, and waits for `state`. */
export async function openDemo(
	browser: TestBrowser,
	baseUrl: string,
	room: string,
	role: Role,
	options: {
		name?: string;
		sub?: string;
		waitState?: string;
		/** Demo page to open (default '/demo/'; also '/demo/grand-round.html', '/demo/device.html'). */
		path?: string;
		/** Window size (default puppeteer's 800x600). */
		viewport?: { width: number; height: number };
		/** Runs before the page loads (e.g. to install test instrumentation). */
		beforeLoad?: (page: Page) => Promise<void>;
	} = {},
): Promise<DemoParticipant> {
	const token = await mintToken({ room, role, name: options.name ?? `Dr ${role}`, ...(options.sub ? { sub: options.sub } : {}) });
	const page = await browser.newPage();
	if (options.viewport) await page.setViewport(options.viewport);
	if (options.beforeLoad) await options.beforeLoad(page);
	await page.goto(`${baseUrl}${options.path ?? '/demo/'}?room=${encodeURIComponent(room)}#token=${encodeURIComponent(token)}`);
	const wanted = options.waitState ?? 'joined';
	try {
		await page.waitForFunction((state) => (globalThis as unknown as { demo?: { state: string } }).demo?.state === state, { timeout: 20_000 }, wanted);
	} catch (error) {
		const seen = await page.evaluate(() => {
			const demo = (globalThis as unknown as { demo?: { state: string; error: unknown; log: unknown[] } }).demo;
			return JSON.stringify({ state: demo?.state, error: demo?.error, log: demo?.log.slice(-5) });
		});
		throw new Error(`the demo page did not reach "${wanted}": ${seen}; console errors: ${browser.errors.join(' | ')}`, { cause: error });
	}
	const peerId = await page.evaluate(() => (globalThis as unknown as { demo: { room: { localParticipant: { id: string } } } }).demo.room.localParticipant.id);
	const stats = () =>
		page.evaluate(async () => (await (globalThis as unknown as { demo: { room: { getTrackStats(): Promise<unknown> } } }).demo.room.getTrackStats()) as ReceivedTrack[]);
	return {
		page,
		peerId,
		stats,
		async inbound(fromPeerId, kind) {
			return (await stats()).find((t) => t.direction === 'inbound' && t.participantId === fromPeerId && t.kind === kind);
		},
	};
}

/** The text of the first element matching `selector` (throws as page.$eval does when there is none). */
export function textContentOf(page: Page, selector: string): Promise<string | null> {
	// Runs in the page; the test project has no DOM types, so the element is typed by what is read.
	return page.$eval(selector, (element) => (element as unknown as { textContent: string | null }).textContent);
}

/** Waits until `viewer` decodes video frames and receives audio packets from `sender`. */
export async function waitForMediaFrom(viewer: DemoParticipant, sender: DemoParticipant, timeoutMs = 20_000): Promise<void> {
	await waitFor(
		async () => {
			const video = await viewer.inbound(sender.peerId, 'video');
			const audio = await viewer.inbound(sender.peerId, 'audio');
			return (video?.framesDecoded ?? 0) > 0 && (audio?.packetsReceived ?? 0) > 0;
		},
		timeoutMs,
		`media from ${sender.peerId}`,
	);
}

/** Waits until frames decoded from `sender` grow by at least `frames`. */
export async function waitForMoreFrames(viewer: DemoParticipant, sender: DemoParticipant, frames = 10, timeoutMs = 15_000): Promise<void> {
	const before = (await viewer.inbound(sender.peerId, 'video'))?.framesDecoded ?? 0;
	await waitFor(async () => ((await viewer.inbound(sender.peerId, 'video'))?.framesDecoded ?? 0) >= before + frames, timeoutMs, `new frames from ${sender.peerId}`);
}
