import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Page } from 'puppeteer-core';
import type { TestBrowser } from '../support/browser.js';
import { openDemo, waitForMediaFrom, waitForMoreFrames, type DemoParticipant } from '../support/demoPage.js';
import { TestNetwork, startCoturn, type TestTurnServer } from '../support/netns.js';
import { waitFor } from '../support/processes.js';
import { mintToken } from '../support/sfu.js';
import { startServer, type ServerProcess } from '../support/serverProcess.js';

/**
 * A consult across real network boundaries: the SFU and a coturn run in a
 * "data centre" namespace, a clinician's Chromium in an open clinic network,
 * and a patient's Chromium behind a router namespace whose nftables rules
 * play the hospital firewall (and NAT). Each case changes only the rules.
 */

const TURN_SECRET = 'netns-test-turn-secret-0123';
const WEBRTC_PORT = 44444;
const TURN_PORT = 3478;

type Path = 'udp' | 'tcp' | 'relay';
type PathWindow = {
	demo: { room: { localParticipant: { mediaPath?: Path }; on(event: string, listener: (...args: unknown[]) => void): void } };
	TelehealthSDK: { RoomEvent: Record<string, string> };
	netEvents?: string[];
};

interface Measured {
	case: string;
	path: Path | undefined;
	/** Page opened → joined (signaling through the firewall). */
	joinMs: number;
	/** Page opened → both sides decode each other's video and hear audio. */
	mediaMs: number;
}

describe('network: a consult through hospital firewalls (network namespaces, real coturn)', function () {
	this.timeout(120_000);
	let network: TestNetwork | undefined;
	let server: ServerProcess | undefined;
	let turn: TestTurnServer | undefined;
	let clinicBrowser: TestBrowser | undefined;
	let patientBrowser: TestBrowser | undefined;
	let clinician: DemoParticipant;
	let baseUrl: string;
	const measured: Measured[] = [];
	let caseNumber = 0;

	before(async function () {
		const reason = await TestNetwork.unavailableReason();
		if (reason) {
			console.log(`      skipped: network namespaces cannot be created here (${reason})`);
			this.skip();
		}
		network = await TestNetwork.create(['patient', 'clinic']);
		const ip = network.serverIp;
		turn = await startCoturn(network, network.server, { ip, port: TURN_PORT, secret: TURN_SECRET });
		server = await startServer(
			{
				HTTP_HOST: ip,
				// Listen on every address, announce the public one: what a NATed or multi-homed host does.
				WEBRTC_LISTEN_INFOS: `0.0.0.0/${ip}`,
				WEBRTC_PORT: String(WEBRTC_PORT),
				MEDIASOUP_NUM_WORKERS: '1',
				ROOM_WAITING_ROOM: 'false',
				TURN_URLS: `turn:${ip}:${TURN_PORT}?transport=udp,turn:${ip}:${TURN_PORT}?transport=tcp`,
				TURN_SECRET,
				TURN_TTL_SECONDS: '600',
				LOG_LEVEL: process.env['NETNS_DEBUG'] ? 'debug' : 'info',
			},
			30_000,
			network.wrapper(network.server),
		);
		baseUrl = `http://${ip}:${server.port}`;
		// getUserMedia needs a secure context; a plain-HTTP private address is not one by default.
		const secure = [`--unsafely-treat-insecure-origin-as-secure=${baseUrl}`];
		clinicBrowser = await network.launchBrowser('clinic', secure);
		clinician = await openDemo(clinicBrowser, baseUrl, 'netns-consult', 'clinician', { name: 'Dr Clinic' });
	});

	afterEach(async () => {
		// Leave (no grace period) so that the next case's patient does not subscribe to a departed one.
		await patientBrowser?.browser
			.pages()
			.then((pages) => Promise.all(pages.map((page) => page.evaluate(() => (globalThis as unknown as { demo?: { room: { leave(): Promise<void> } } }).demo?.room.leave()))))
			.catch(() => undefined);
		await patientBrowser?.close().catch(() => undefined);
		patientBrowser = undefined;
	});

	after(async () => {
		await patientBrowser?.close().catch(() => undefined);
		await clinicBrowser?.close().catch(() => undefined);
		await server?.stop().catch(() => undefined);
		await turn?.stop().catch(() => undefined);
		await network?.close();
		if (measured.length > 0) {
			console.log('      measured (page opened → joined / → media both ways):');
			for (const m of measured) console.log(`        ${m.case.padEnd(34)} path ${String(m.path).padEnd(5)} join ${m.joinMs} ms, media ${m.mediaMs} ms`);
		}
	});

	/** Applies the patient's firewall, joins from a fresh Chromium, and waits for media both ways. */
	async function consult(name: string, rules: string[]): Promise<{ patient: DemoParticipant; page: Page; measured: Measured }> {
		await network!.setFirewall({ patient: rules });
		patientBrowser = await network!.launchBrowser('patient', [`--unsafely-treat-insecure-origin-as-secure=${baseUrl}`]);
		const started = Date.now();
		const patient = await openDemo(patientBrowser, baseUrl, 'netns-consult', 'patient', {
			name: `Patient ${++caseNumber}`,
			sub: `patient-${caseNumber}`,
			beforeLoad: async (page) => {
				// Record the SDK's path and reconnect events from the start.
				await page.evaluateOnNewDocument(() => {
					const w = globalThis as unknown as PathWindow;
					w.netEvents = [];
					const hook = setInterval(() => {
						if (!w.demo?.room || !w.TelehealthSDK) return;
						clearInterval(hook);
						const { RoomEvent } = w.TelehealthSDK;
						w.demo.room.on(RoomEvent['MediaPathChanged']!, (path) => w.netEvents!.push(`path:${String(path)}`));
						w.demo.room.on(RoomEvent['Reconnecting']!, (reason) => w.netEvents!.push(`reconnecting:${String(reason)}`));
						w.demo.room.on(RoomEvent['Reconnected']!, () => w.netEvents!.push('reconnected'));
						w.demo.room.on(RoomEvent['TrackSubscribed']!, (track) => w.netEvents!.push(`subscribed:${(track as { kind: string }).kind}`));
						w.demo.room.on(RoomEvent['TrackSubscriptionFailed']!, (_id, error) => w.netEvents!.push(`subscribeFailed:${String(error)}`));
					}, 10);
				});
			},
		});
		const joinMs = Date.now() - started;
		try {
			await waitForMediaFrom(patient, clinician, 40_000);
			await waitForMediaFrom(clinician, patient, 40_000);
		} catch (error) {
			const events = await patient.page.evaluate(() => JSON.stringify((globalThis as unknown as PathWindow).netEvents));
			const seen = JSON.stringify({ patient: await patient.stats(), clinician: await clinician.stats() });
			if (process.env['NETNS_DEBUG']) console.log(server!.logs.filter((l) => l.msg !== 'request answered' || l['method'] !== 'ping').map((l) => JSON.stringify(l)).join('\n'));
			throw new Error(`${(error as Error).message}; SDK events ${events}; stats ${seen}; firewall:\n${await network!.firewallRules()}`, { cause: error });
		}
		const mediaMs = Date.now() - started;
		const entry: Measured = { case: name, path: undefined, joinMs, mediaMs };
		measured.push(entry);
		return { patient, page: patient.page, measured: entry };
	}

	/** Every track the patient sends and receives goes over `path`, and frames keep being decoded both ways. */
	async function expectConsultOver(patient: DemoParticipant, path: Path, entry: Measured): Promise<void> {
		await waitForMoreFrames(patient, clinician, 10, 20_000);
		await waitForMoreFrames(clinician, patient, 10, 20_000);
		const stats = (await patient.stats()) as (Awaited<ReturnType<DemoParticipant['stats']>>[number] & { mediaPath?: Path; relayProtocol?: string })[];
		expect(stats.filter((s) => s.direction === 'outbound').map((s) => s.kind).sort()).to.deep.equal(['audio', 'video']);
		expect(stats.filter((s) => s.direction === 'inbound' && s.participantId === clinician.peerId).map((s) => s.kind).sort()).to.deep.equal(['audio', 'video']);
		const consultTracks = stats.filter((s) => s.direction === 'outbound' || s.participantId === clinician.peerId);
		for (const track of consultTracks) expect(track.mediaPath, `${track.direction} ${track.kind}`).to.equal(path);
		// The room's own view (sampled every 2 s) follows.
		entry.path = await waitFor(
			() => patient.page.evaluate((want) => ((globalThis as unknown as PathWindow).demo.room.localParticipant.mediaPath === want ? want : null), path),
			10_000,
			`the SDK to report ${path} as its media path`,
		);
	}

	it('(a) open network (behind NAT): media goes directly over UDP', async () => {
		const { patient, page, measured: entry } = await consult('(a) open network', []);
		await expectConsultOver(patient, 'udp', entry);
		expect(await page.evaluate(() => (globalThis as unknown as PathWindow).netEvents)).to.include('path:udp');
	});

	it('(b) UDP blocked: media falls back to ICE-TCP on the WebRtcServer’s TCP port', async () => {
		// TURN's TCP port is closed too: with it open, Chromium sometimes nominates a
		// TURN-over-TCP pair before the host TCP pair, and case (c) covers TURN.
		const { patient, measured: entry } = await consult('(b) UDP blocked', [`tcp dport ${TURN_PORT} drop`, 'meta l4proto udp counter drop']);
		await expectConsultOver(patient, 'tcp', entry);
		// The rule really dropped something (the UDP candidate pairs' checks).
		expect(await network!.firewallRules()).to.match(/meta l4proto udp counter packets [1-9]\d* bytes \d+ drop/);
	});

	it('(c) only the signaling and TURN ports open: media is relayed by coturn', async () => {
		const logBefore = turn!.log().length;
		const { patient, measured: entry } = await consult('(c) only TURN port open', [`tcp dport ${server!.port} accept`, `udp dport ${TURN_PORT} accept`, `tcp dport ${TURN_PORT} accept`, 'drop']);
		await expectConsultOver(patient, 'relay', entry);
		// Both TURN transports are open here; Chromium usually takes UDP, sometimes TCP.
		const stats = (await patient.stats()) as { relayProtocol?: string }[];
		expect(stats.length).to.be.greaterThan(0);
		for (const stat of stats) expect(stat.relayProtocol).to.be.oneOf(['udp', 'tcp']);
		// What relaying one consult costs coturn (for TURN sizing in the README).
		const ticks = (): number => readFileSync(`/proc/${turn!.pid}/stat`, 'utf8').slice(readFileSync(`/proc/${turn!.pid}/stat`, 'utf8').lastIndexOf(')') + 2).split(' ').slice(11, 13).map(Number).reduce((a, b) => a + b, 0);
		const bitrate = async (): Promise<number> => (await patient.stats()).reduce((sum, s) => sum + ((s as { bitrate?: number }).bitrate ?? 0), 0);
		const [ticks0, t0] = [ticks(), Date.now()];
		await sleep(5000);
		const cpuPercent = (100 * (ticks() - ticks0)) / 100 / ((Date.now() - t0) / 1000);
		const mbps = (await bitrate()) / 1e6;
		console.log(`      coturn relaying one consult: ${mbps.toFixed(2)} Mbit/s through the relay (sent + received), ${cpuPercent.toFixed(1)} % of a core`);
		// coturn really allocated a relay for this consult, authenticated with a minted credential.
		const log = turn!.log().slice(logBefore);
		expect(log).to.match(/ALLOCATE processed, success/);
		expect(log).to.not.match(/401: Unauthorized.*ALLOCATE.*\n.*closed/);
	});

	it('(e) open network, but the page asks for relay only (iceTransportPolicy): media goes through coturn from the start', async () => {
		await network!.setFirewall({ patient: [] });
		patientBrowser = await network!.launchBrowser('patient', [`--unsafely-treat-insecure-origin-as-secure=${baseUrl}`]);
		const page = await patientBrowser.newPage();
		// Any page of the server's origin, with the SDK bundle: the application builds its own Room.
		await page.goto(`${baseUrl}/api/client-config`);
		await page.addScriptTag({ url: `${baseUrl}/sdk/telehealth-sdk.iife.js` });
		const token = await mintToken({ room: 'netns-consult', role: 'clinician', name: 'Dr Relay', sub: 'relay-only-clinician' });
		const started = Date.now();
		const path = await page.evaluate(
			async (url, joinToken) => {
				type Sdk = { Room: new (options: object) => { connect(u: string, t: string): Promise<void>; localParticipant: { enableCamera(): Promise<unknown>; mediaPath?: string }; getTrackStats(): Promise<{ mediaPath?: string; direction: string }[]>; leave(): Promise<void> } };
				const { Room } = (globalThis as unknown as { TelehealthSDK: Sdk }).TelehealthSDK;
				const room = new Room({ iceTransportPolicy: 'relay', statsIntervalMs: 500 });
				await room.connect(url, joinToken);
				await room.localParticipant.enableCamera();
				for (let i = 0; i < 100 && !room.localParticipant.mediaPath; i++) await new Promise((r) => setTimeout(r, 100));
				// Each transport learns its path when its own candidate pair is chosen: the
				// sending one may still be without it when the receiving one has it.
				let paths: string[] = [];
				for (let i = 0; i < 100; i++) {
					paths = (await room.getTrackStats()).map((s) => `${s.direction}:${s.mediaPath}`);
					if (paths.length > 0 && paths.every((p) => !p.endsWith(':undefined'))) break;
					await new Promise((r) => setTimeout(r, 100));
				}
				await room.leave();
				return { local: room.localParticipant.mediaPath, paths };
			},
			baseUrl,
			token,
		);
		measured.push({ case: '(e) relay asked by the page', path: path.local as Path, joinMs: 0, mediaMs: Date.now() - started });
		expect(path.local).to.equal('relay');
		expect(path.paths.length).to.be.greaterThan(0);
		expect(path.paths.every((p) => p.endsWith(':relay'))).to.equal(true, path.paths.join(', '));
	});

	it('(d) ICE checks pass but DTLS and media are dropped (a filtering middlebox): the SDK retries relay-only and the consult goes on through TURN', async () => {
		const { patient, page, measured: entry } = await consult('(d) direct path filtered, relay-only', [
			// Small packets (STUN checks) pass, anything bigger to the SFU's UDP port is dropped; TCP to it is blocked.
			`udp dport ${WEBRTC_PORT} meta length > 300 drop`,
			`tcp dport ${WEBRTC_PORT} drop`,
		]);
		await expectConsultOver(patient, 'relay', entry);
		const events = (await page.evaluate(() => (globalThis as unknown as PathWindow).netEvents)) ?? [];
		expect(events).to.include('reconnected');
		// The fallback waits 8 s for the direct paths first.
		expect(entry.mediaMs).to.be.greaterThan(8000);
	});
});
