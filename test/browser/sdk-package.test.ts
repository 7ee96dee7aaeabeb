import { expect } from 'chai';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { gzipSync } from 'node:zlib';
import type { Page } from 'puppeteer-core';
import { launchBrowser, type TestBrowser } from '../support/browser.js';
import { openDemo, textContentOf, waitForMediaFrom, type DemoParticipant } from '../support/demoPage.js';
import { waitFor } from '../support/processes.js';
import { mintToken, startSfu, type TestSfu } from '../support/sfu.js';

const run = promisify(execFile);
const DIST = path.resolve('client-sdk/dist');

/** What the portal page (client-sdk/examples/portal.html) exposes on `window`, as the test reads it (the test project has no DOM types). */
type PortalWindow = {
	room: {
		state: string;
		localParticipant: { id: string };
		getTrackStats(): Promise<{ direction: string; participantId: string; kind: string; framesDecoded: number }[]>;
	};
};

describe('browser: the SDK as a package (bundles, declarations, a portal with only the IIFE)', function () {
	this.timeout(60_000);

	before(async () => {
		await run(process.execPath, ['client-sdk/build.mjs']);
	});

	it('bundles contain no server code, and stay small', () => {
		const meta = JSON.parse(readFileSync(path.join(DIST, 'meta.json'), 'utf8')) as { inputs: Record<string, unknown> };
		const inputs = Object.keys(meta.inputs);
		expect(inputs.filter((i) => /(^|\/)(server\/|node_modules\/(zod|mediasoup)\/)/.test(i))).to.deep.equal([]);
		for (const file of ['telehealth-sdk.esm.js', 'telehealth-sdk.iife.js']) {
			const code = readFileSync(path.join(DIST, file));
			const gzipped = gzipSync(code, { level: 9 }).length;
			console.log(`      ${file}: ${(code.length / 1024).toFixed(1)} KiB minified, ${(gzipped / 1024).toFixed(1)} KiB gzipped`);
			expect(gzipped).to.be.below(70 * 1024);
		}
	});

	it('the declarations are self-contained and type a portal’s code strictly', async () => {
		const dir = mkdtempSync(path.join(tmpdir(), 'sdk-consumer-'));
		try {
			writeFileSync(
				path.join(dir, 'esm-consumer.ts'),
				`import { connect, Room, RoomEvent, ConnectionQuality, VideoQuality, ReconnectReason, SdkError, type TrackStats } from '${DIST}/telehealth-sdk.esm.js';
export async function visit(token: string): Promise<void> {
	const room = new Room({ adaptiveStream: true });
	room.on(RoomEvent.Reconnecting, (reason: ReconnectReason) => console.log(reason === ReconnectReason.MediaLost));
	room.on(RoomEvent.Reconnected, ({ resumed, durationMs }) => console.log(resumed, durationMs.toFixed(0)));
	room.on(RoomEvent.ConnectionQualityChanged, (quality, participant) => console.log(quality === ConnectionQuality.Poor, participant.id));
	room.on(RoomEvent.RecordingStarted, (recording) => console.log(recording.recordedPeerIds.length));
	room.on(RoomEvent.TrackSubscribed, (track, participant) => {
		document.body.append(track.attach());
		void participant.setVideoQuality(VideoQuality.Low);
	});
	// @ts-expect-error: the payload of Kicked is a reason string, not a number
	room.on(RoomEvent.Kicked, (reason: number) => console.log(reason));
	try {
		await room.connect('https://sfu.example.org', token);
	} catch (error) {
		if (error instanceof SdkError && error.code === 'auth_token_expired') return;
	}
	const stats: TrackStats[] = await room.getTrackStats();
	console.log(stats.map((s) => [s.bitrate, s.packetLossPercent, s.roundTripTime, s.frameWidth, s.framesPerSecond]));
	const cameras = await Room.getLocalDevices('videoinput');
	if (cameras[1]) await room.switchActiveDevice('videoinput', cameras[1].deviceId);
	await room.localParticipant.setScreenShareEnabled(true);
	const other = await connect('https://sfu.example.org', token, { room: 'visit-42' });
	await other.leave();
}
`,
			);
			writeFileSync(
				path.join(dir, 'iife-consumer.ts'),
				`/// <reference path="${DIST}/telehealth-sdk.iife.d.ts" />
const room = new TelehealthSDK.Room();
room.on(TelehealthSDK.RoomEvent.WaitingForAdmission, () => console.log('waiting'));
void room.connect(location.origin, 'token').then(() => room.localParticipant.enableCamera({ simulcast: true }));
export {};
`,
			);
			// No node_modules near the temporary directory: only the SDK's own declarations can resolve.
			const tsc = path.resolve('node_modules/typescript/bin/tsc');
			const compilerOptions = { noEmit: true, strict: true, target: 'ES2022', module: 'ESNext', moduleResolution: 'Bundler', lib: ['ES2022', 'DOM', 'DOM.Iterable'], types: [], skipLibCheck: false };
			writeFileSync(path.join(dir, 'tsconfig.json'), JSON.stringify({ compilerOptions, files: ['esm-consumer.ts', 'iife-consumer.ts'] }));
			await run(process.execPath, [tsc, '-p', dir], { cwd: dir }).catch((error: { stdout?: string }) => {
				throw new Error(`a portal's TypeScript does not compile against the SDK's declarations:\n${error.stdout ?? ''}`);
			});
		} finally {
			rmSync(dir, { recursive: true, force: true });
		}
	});

	describe('a portal page on its own origin that includes only the IIFE bundle and a token', () => {
		let sfu: TestSfu;
		let browser: TestBrowser;
		let portal: Server;
		let host: DemoParticipant;
		let page: Page;

		before(async () => {
			sfu = await startSfu({ LOG_LEVEL: 'warn' });
			browser = await launchBrowser();
			// The example page shipped in client-sdk/examples, pointed at this SFU.
			const html = readFileSync('client-sdk/examples/portal.html', 'utf8').replaceAll('https://sfu.example.org', sfu.url);
			portal = createServer((_request, response) => response.writeHead(200, { 'content-type': 'text/html' }).end(html));
			await new Promise<void>((resolve) => portal.listen(0, '127.0.0.1', resolve));
		});

		after(async () => {
			await browser?.close();
			await sfu?.close();
			await new Promise((resolve) => portal?.close(resolve));
		});

		it('runs a consult with the clinician on the demo page', async () => {
			host = await openDemo(browser, sfu.url, 'portal-visit', 'host', { name: 'Dr. Osei' });
			const token = await mintToken({ room: 'portal-visit', role: 'clinician', name: 'Portal clinician' });
			page = await browser.newPage();
			const started = Date.now();
			await page.goto(`http://127.0.0.1:${(portal.address() as AddressInfo).port}/visit.html#token=${encodeURIComponent(token)}`);
			const portalId = await waitFor(
				() => page.evaluate(() => ((globalThis as unknown as PortalWindow).room.state === 'connected' ? (globalThis as unknown as PortalWindow).room.localParticipant.id : null)),
				15_000,
				'the portal joined',
			);
			const portalStats = async () => await page.evaluate(() => (globalThis as unknown as PortalWindow).room.getTrackStats());
			await waitFor(async () => (await portalStats()).some((s) => s.direction === 'inbound' && s.participantId === host.peerId && s.kind === 'video' && s.framesDecoded > 0), 15_000, 'host video in the portal');
			const firstFrame = Date.now() - started;
			await waitForMediaFrom(host, { page, peerId: portalId } as DemoParticipant);
			expect(await page.$$eval('#videos video', (videos) => videos.length)).to.be.at.least(2);
			expect(await textContentOf(page, '#status')).to.equal('Connected');
			expect(browser.errors).to.deep.equal([]);
			console.log(`      page load to the host's first decoded frame in the portal: ${firstFrame} ms`);
		});
	});
});
