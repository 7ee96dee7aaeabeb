import { expect } from 'chai';
import { setTimeout as sleep } from 'node:timers/promises';
import { TestNetwork } from '../support/netns.js';
import { OUTAGE, WEAK_LINK_PROFILES, WeakLinkConsult, type DirectionResult, type PageSample } from '../support/weakLink.js';

/**
 * A consult on the networks our users have: the patient's Chromium behind a
 * real impaired link (tbf rates, nftables random loss, a delay/jitter relay,
 * an outage, an address change; test/support/netns.ts), the clinician's on a
 * clean one. Each case asserts what the people in the call see, from their
 * browsers' own WebRTC statistics; the numbers per profile are the
 * benchmark's (npm run bench:weak-links, README "Weak links").
 */

/** Time the SDK and both bandwidth estimators get to adapt to a new link before measuring. */
const SETTLE_S = 20;
const MEASURE_S = 15;

type Seen = { clinician: PageSample; patient: PageSample };

function videoFrom(sample: PageSample, from: string): PageSample['inbound'][number] | undefined {
	return sample.inbound.find((t) => t.from === from && t.kind === 'video' && t.source === 'camera');
}

function audioFrom(sample: PageSample, from: string): PageSample['inbound'][number] | undefined {
	return sample.inbound.find((t) => t.from === from && t.kind === 'audio');
}

/**
 * Audio intelligible, and video either moving at the lowest layer or paused
 * cleanly (not a picture that freezes and jumps) while audio continues.
 */
function expectAudioFirst(direction: string, r: DirectionResult, maxWidth: number): void {
	const seen = JSON.stringify(r);
	expect(r.audioConcealedPercent, `${direction}: audio concealed (${seen})`).to.be.below(5);
	expect(r.audioKbps, `${direction}: audio keeps flowing (${seen})`).to.be.above(8);
	// Moving: at least the lowest temporal layer of the lowest layer (¼ of the fake camera's 20 fps = 5 fps) less what loss takes.
	const moving = r.videoFps >= 4 && r.freezeSeconds <= 0.25 * r.seconds;
	const pausedCleanly = r.videoPausedShare >= 0.8 && r.freezeCount <= 1;
	expect(moving || pausedCleanly, `${direction}: video moves (≥ 4 fps, frozen ≤ 25 %) or pauses cleanly (${seen})`).to.equal(true);
	// Lower simulcast layers first (README, bandwidth steps): below the top layer on 512 kbit/s, the lowest on 300.
	if (moving) expect(r.videoWidth, `${direction}: a lower layer (${seen})`).to.be.at.most(maxWidth);
}

describe('network: weak links (a consult over impaired links, network namespaces)', function () {
	this.timeout(240_000);
	let consult: WeakLinkConsult | undefined;

	before(async function () {
		const reason = await TestNetwork.unavailableReason();
		if (reason) {
			console.log(`      skipped: network namespaces cannot be created here (${reason})`);
			this.skip();
		}
		consult = await WeakLinkConsult.start();
	});

	afterEach(async () => {
		// Each case starts from a clean link (the weak-link profiles run last: after them the SDK
		// holds a paused video back for a while, by design).
		await consult?.impair(null).catch(() => undefined);
	});

	after(async () => {
		await consult?.close();
	});

	async function onProfile(name: 'mountain link' | 'bad phone'): Promise<{ up: DirectionResult; down: DirectionResult }> {
		await consult!.impair(WEAK_LINK_PROFILES[name]);
		await sleep(SETTLE_S * 1000);
		const { up, down, samples } = await consult!.measure(MEASURE_S);
		console.log(`      ${name}: up ${summary(up)}; down ${summary(down)}`);
		// The impairment really is on the media's path: UDP through the link's relay, its round trip added.
		expect(samples.at(-1)!.patient.mediaPath).to.equal('udp');
		expect(up.rttMs, 'the patient’s round trip').to.be.at.least(0.9 * WEAK_LINK_PROFILES[name].rttMs);
		return { up, down };
	}

	it('outage (10 s of 100 % loss): media resumes within 5 s of the link’s return, full quality within 15 s', async () => {
		const c = consult!;
		const patientId = c.patient.peerId;
		const clinicianId = c.clinician.peerId;
		// Full quality = the top simulcast layer forwarded both ways, as on a good link. (The layer, not
		// the decoded width: a sender's encoder may lower its resolution for CPU on a busy machine.)
		const layer = (s: PageSample, from: string): number => videoFrom(s, from)?.spatialLayer ?? -1;
		const before = await c.until((s) => layer(s.clinician, patientId) === 2 && layer(s.patient, clinicianId) === 2, 40_000, 'the top layer both ways before the outage');
		const widths = (s: Seen): string => `${videoFrom(s.clinician, patientId)?.frameWidth}/${videoFrom(s.patient, clinicianId)?.frameWidth} px, layers ${layer(s.clinician, patientId)}/${layer(s.patient, clinicianId)}`;
		await c.impair(OUTAGE.impairment);
		await sleep(OUTAGE.seconds * 1000);
		const during = await c.sample();
		// The outage was real: nothing new arrived in the last seconds of it.
		expect(audioFrom(during.clinician, patientId)?.packetsReceived ?? 0).to.be.below((audioFrom(before.clinician, patientId)?.packetsReceived ?? 0) + 50 * OUTAGE.seconds * 0.8);
		await c.impair(null);
		const backAt = Date.now();
		// Media: new frames and audio both ways (a rebuilt session starts new counters: compare with the last sample).
		let last: Seen = during;
		let mediaMs: number | null = null;
		let fullMs: number | null = null;
		for (let i = 0; i < 200 && Date.now() - backAt < 20_000 && fullMs === null; i++) {
			const now = await c.sample();
			const grew = (a: PageSample, b: PageSample, from: string): boolean => {
				const v0 = videoFrom(b, from)?.framesDecoded ?? 0;
				const a0 = audioFrom(b, from)?.packetsReceived ?? 0;
				const v1 = videoFrom(a, from)?.framesDecoded ?? 0;
				const a1 = audioFrom(a, from)?.packetsReceived ?? 0;
				return (v1 > v0 || v1 < v0) && (a1 > a0 || a1 < a0);
			};
			if (mediaMs === null && grew(now.clinician, last.clinician, patientId) && grew(now.patient, last.patient, clinicianId)) mediaMs = Date.now() - backAt;
			if (mediaMs !== null && layer(now.clinician, patientId) === 2 && layer(now.patient, clinicianId) === 2) fullMs = Date.now() - backAt;
			last = now;
			await sleep(200);
		}
		console.log(`      outage: media back both ways after ${mediaMs} ms, the top layer both ways after ${fullMs} ms (before: ${widths(before)}; last: ${widths(last)})`);
		expect(mediaMs, 'media back both ways').to.not.equal(null);
		expect(mediaMs!).to.be.at.most(5000);
		expect(fullMs, `the top layer both ways (last seen: ${widths(last)})`).to.not.equal(null);
		expect(fullMs!).to.be.at.most(15_000);
	});

	it('the patient’s address changes mid-call (Wi-Fi → 4G): media back both ways within 5 s, same participant, no waiting room', async () => {
		const c = consult!;
		const patientId = c.patient.peerId;
		const clinicianId = c.clinician.peerId;
		const before = await c.sample();
		const switchedAt = Date.now();
		const ip = await c.network.switchAddress('patient');
		// Wait until frames and audio flow again both ways, compared with the sample before the switch.
		let backMs: number | null = null;
		let last = before;
		let previous = before;
		for (let i = 0; i < 100 && Date.now() - switchedAt < 15_000; i++) {
			await sleep(250);
			const now = await c.sample();
			const flowing = (a: PageSample, b: PageSample, from: string): boolean =>
				(videoFrom(a, from)?.framesDecoded ?? 0) !== (videoFrom(b, from)?.framesDecoded ?? 0) && (audioFrom(a, from)?.packetsReceived ?? 0) !== (audioFrom(b, from)?.packetsReceived ?? 0);
			// Both sides decode new media in two samples in a row after the path broke (the first may still be the old path's).
			if (Date.now() - switchedAt > 1500 && flowing(now.clinician, previous.clinician, patientId) && flowing(now.patient, previous.patient, clinicianId) && flowing(previous.clinician, last.clinician, patientId)) {
				backMs = Date.now() - switchedAt;
				break;
			}
			last = previous;
			previous = now;
		}
		const patientEvents = (await c.events('patient')).filter((e) => e.at >= switchedAt);
		const clinicianEvents = (await c.events('clinician')).filter((e) => e.at >= switchedAt);
		console.log(`      address ${ip}: media back both ways ${backMs} ms after the switch; patient events ${patientEvents.filter((e) => e.event !== 'connectionQualityChanged').map((e) => `${e.event}:${e.args[0] ?? ''}`).join(', ')}`);
		expect(backMs, 'media back both ways').to.not.equal(null);
		expect(backMs!).to.be.at.most(5000);
		const after = await c.until((s) => s.patient.mediaPath !== null, 5000, 'the patient’s media path');
		expect(after.patient.mediaPath, 'still UDP, through the patient’s link').to.equal('udp');
		expect(after.patient.peerId).to.equal(patientId);
		expect(after.patient.state).to.equal('joined');
		expect(patientEvents.map((e) => e.event)).to.not.include('waitingForAdmission');
		expect(clinicianEvents.filter((e) => e.event === 'participantLeft' && e.args[0] === patientId)).to.deep.equal([]);
		expect(Object.keys(after.clinician.quality)).to.deep.equal([patientId]);
		expect(clinicianId).to.be.a('string');
	});

	it('audio only (the patient presses it): the cameras stop both ways, the voices go on, and video comes back when it is pressed again', async () => {
		const c = consult!;
		const patientId = c.patient.peerId;
		const clinicianId = c.clinician.peerId;
		await c.patient.page.bringToFront();
		await c.patient.page.click('#toggle-audio-only');
		// The patient's own camera is paused (the clinician sees it muted) and the clinician's video is paused for the patient.
		await c.until((s) => !!videoFrom(s.clinician, patientId)?.muted && !!videoFrom(s.patient, clinicianId)?.paused, 10_000, 'audio only both ways');
		await sleep(1500);
		const a = await c.sample();
		await sleep(3000);
		const b = await c.sample();
		expect((videoFrom(b.patient, clinicianId)?.bytesReceived ?? 0) - (videoFrom(a.patient, clinicianId)?.bytesReceived ?? 0), 'no video reaches the patient').to.be.below(3000);
		expect((videoFrom(b.clinician, patientId)?.framesDecoded ?? 0) - (videoFrom(a.clinician, patientId)?.framesDecoded ?? 0), 'no video from the patient').to.be.at.most(1);
		expect((audioFrom(b.patient, clinicianId)?.packetsReceived ?? 0) - (audioFrom(a.patient, clinicianId)?.packetsReceived ?? 0), 'audio to the patient').to.be.above(50);
		expect((audioFrom(b.clinician, patientId)?.packetsReceived ?? 0) - (audioFrom(a.clinician, patientId)?.packetsReceived ?? 0), 'audio from the patient').to.be.above(50);
		await c.patient.page.click('#toggle-audio-only');
		const frames = (s: Seen): [number, number] => [videoFrom(s.clinician, patientId)?.framesDecoded ?? 0, videoFrom(s.patient, clinicianId)?.framesDecoded ?? 0];
		const [up0, down0] = frames(b);
		await c.until((s) => frames(s)[0] > up0 + 10 && frames(s)[1] > down0 + 10, 15_000, 'video back both ways');
	});

	it('mountain link (512 kbit/s, RTT +150 ± 30 ms, 3 % loss): audio intelligible both ways, video below the top layer or paused cleanly; the clinician sees the patient’s quality drop and recover', async () => {
		const c = consult!;
		const { up, down } = await onProfile('mountain link');
		expectAudioFirst('patient → clinician', up, 640);
		expectAudioFirst('clinician → patient', down, 640);
		// The clinician was told the patient's connection got worse …
		const events = await c.events('clinician');
		const drops = events.filter((e) => e.event === 'connectionQualityChanged' && e.args[1] === c.patient.peerId && ['good', 'poor'].includes(e.args[0]!));
		expect(drops.length, JSON.stringify(events.slice(-20))).to.be.greaterThan(0);
		// … and is told it recovered once the link is clean: the last change it heard says excellent.
		await c.impair(null);
		await c.until((s) => s.clinician.quality[c.patient.peerId] === 'excellent', 30_000, 'the clinician to see the patient as excellent again');
		const changes = (await c.events('clinician')).filter((e) => e.event === 'connectionQualityChanged' && e.args[1] === c.patient.peerId);
		expect(changes.at(-1)?.args[0]).to.equal('excellent');
		expect(changes.findIndex((e) => e.at === drops[0]!.at && e.args[0] === drops[0]!.args[0])).to.be.lessThan(changes.length - 1);
	});

	it('bad phone (300 kbit/s down, 150 up, RTT +250 ms, 5 % loss): audio intelligible both ways, video at the lowest layer or paused cleanly', async () => {
		const { up, down } = await onProfile('bad phone');
		expectAudioFirst('patient → clinician', up, 320);
		expectAudioFirst('clinician → patient', down, 320);
	});
});

function summary(r: DirectionResult): string {
	return `audio concealed ${r.audioConcealedPercent.toFixed(2)} %, video ${r.videoWidth}x${r.videoHeight} ${r.videoFps.toFixed(1)} fps, frozen ${r.freezeSeconds.toFixed(1)} s, paused ${(100 * r.videoPausedShare).toFixed(0)} %, RTT ${r.rttMs.toFixed(0)} ms`;
}
