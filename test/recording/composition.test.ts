/**
 * The composed consult video, end to end: three Chromium participants, each
 * with its own fake camera (a solid colour) and microphone (a sine tone), one
 * joining late and one leaving early; after the stop, final/consult.mp4 must
 * play, decode cleanly, show the right tiles at each moment, carry each
 * present participant's tone, and be covered by the signed manifest.
 */
import { expect } from 'chai';
import { execFile, execFileSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import type { CompositionEntry, ManifestDocument, RecordingSummary } from '../../server/recording/index.js';
import { verifyRecording } from '../../server/recording/index.js';
import type { Page } from 'puppeteer-core';
import { launchBrowser, type TestBrowser } from '../support/browser.js';
import { openDemo, waitForMediaFrom, type DemoParticipant } from '../support/demoPage.js';
import { ffprobe } from '../support/mediaFiles.js';
import { waitFor } from '../support/processes.js';
import { mintToken, startSfu, type TestSfu } from '../support/sfu.js';

const execFileAsync = promisify(execFile);

const WIDTH = 1280;
const HEIGHT = 720;
type Colour = 'red' | 'green' | 'blue' | 'dark';
const PEOPLE = [
	{ colour: 'red', hex: '0xFF0000', tone: 440 },
	{ colour: 'green', hex: '0x00FF00', tone: 620 },
	{ colour: 'blue', hex: '0x0000FF', tone: 970 },
] as const;

/** A frame of the composed video at `t` seconds, as RGB24. */
async function frameAt(file: string, t: number): Promise<Buffer> {
	const { stdout } = await execFileAsync('ffmpeg', ['-v', 'error', '-ss', t.toFixed(2), '-i', file, '-frames:v', '1', '-f', 'rawvideo', '-pix_fmt', 'rgb24', '-'], {
		encoding: 'buffer',
		maxBuffer: 16 * 1024 * 1024,
	});
	expect(stdout.length, `a frame at ${t} s`).to.equal(WIDTH * HEIGHT * 3);
	return stdout;
}

/** The colour of a 24x24 patch around (x, y): a participant's, or `dark` (background, letterbox, card). */
function colourAt(frame: Buffer, x: number, y: number): Colour | 'other' {
	let r = 0;
	let g = 0;
	let b = 0;
	let n = 0;
	for (let dy = -12; dy < 12; dy++) {
		for (let dx = -12; dx < 12; dx++) {
			const i = ((y + dy) * WIDTH + (x + dx)) * 3;
			r += frame[i]!;
			g += frame[i + 1]!;
			b += frame[i + 2]!;
			n += 1;
		}
	}
	[r, g, b] = [r / n, g / n, b / n];
	if (Math.max(r, g, b) < 70) return 'dark';
	if (r > 140 && g < 100 && b < 100) return 'red';
	if (g > 140 && r < 100 && b < 100) return 'green';
	if (b > 140 && r < 100 && g < 100) return 'blue';
	return 'other';
}

/** Mean level (dBFS) of the audio around `t` after a narrow band-pass at `frequency`. */
async function toneLevel(file: string, t: number, frequency: number): Promise<number> {
	const band = `bandpass=f=${frequency}:width_type=h:w=40`;
	const { stderr } = await execFileAsync('ffmpeg', ['-hide_banner', '-nostats', '-ss', (t - 1).toFixed(2), '-t', '2', '-i', file, '-vn', '-af', `${band},${band},${band},volumedetect`, '-f', 'null', '-']);
	const match = /mean_volume: (-?[\d.]+|-inf) dB/.exec(stderr);
	expect(match, `volumedetect output for ${frequency} Hz at ${t} s`).to.not.equal(null);
	return match![1] === '-inf' ? -120 : Number(match![1]);
}

/**
 * The pages ask for echo cancellation, noise suppression and gain control; a
 * tone is not speech, and echo cancellation suppresses a talker while the
 * others are played out. The test wants each microphone's tone as it is.
 */
async function rawMicrophone(page: Page): Promise<void> {
	await page.evaluateOnNewDocument(() => {
		type Constraints = { audio?: boolean | Record<string, unknown>; video?: unknown };
		const devices = (globalThis as unknown as { navigator: { mediaDevices: { getUserMedia(c: Constraints): Promise<unknown> } } }).navigator.mediaDevices;
		const original = devices.getUserMedia.bind(devices);
		devices.getUserMedia = (constraints: Constraints) =>
			original(
				constraints.audio
					? { ...constraints, audio: { ...(typeof constraints.audio === 'object' ? constraints.audio : {}), echoCancellation: false, noiseSuppression: false, autoGainControl: false } }
					: constraints,
			);
	});
}

describe('recording: the composed consult video', function () {
	this.timeout(420_000);
	let sfu: TestSfu;
	let scratch: string;
	const browsers: TestBrowser[] = [];
	const room = 'composed-consult';
	let hostToken: string;

	const api = async <T>(method: string, route: string, body?: unknown): Promise<{ status: number; body: T }> => {
		const response = await fetch(`${sfu.url}${route}`, {
			method,
			headers: { authorization: `Bearer ${hostToken}`, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
			...(body !== undefined ? { body: JSON.stringify(body) } : {}),
		});
		const text = await response.text();
		return { status: response.status, body: (text ? JSON.parse(text) : null) as T };
	};

	before(async () => {
		scratch = mkdtempSync(path.join(tmpdir(), 'sfu-composition-'));
		// Each Chromium gets its own camera (a solid colour) and microphone (a tone).
		for (const person of PEOPLE) {
			const y4m = path.join(scratch, `${person.colour}.y4m`);
			const wav = path.join(scratch, `${person.colour}.wav`);
			execFileSync('ffmpeg', ['-v', 'error', '-y', '-f', 'lavfi', '-i', `color=c=${person.hex}:s=640x360:r=30:d=1`, '-pix_fmt', 'yuv420p', y4m]);
			const tone = `aevalsrc='0.4*sin(2*PI*${person.tone}*t)*(0.5+0.5*sin(2*PI*2*t))':s=48000:d=10`;
			execFileSync('ffmpeg', ['-v', 'error', '-y', '-f', 'lavfi', '-i', tone, '-ac', '1', '-c:a', 'pcm_s16le', wav]);
			browsers.push(await launchBrowser([`--use-file-for-fake-video-capture=${y4m}`, `--use-file-for-fake-audio-capture=${wav}`, '--mute-audio']));
		}
		sfu = await startSfu({ RECORDING_SEGMENT_SECONDS: '5', ROOM_WAITING_ROOM: 'false', LOG_LEVEL: 'info' });
		hostToken = await mintToken({ room, role: 'host', sub: 'composition-host' });
	});

	after(async () => {
		for (const browser of browsers) await browser.close().catch(() => undefined);
		await sfu?.close();
		if (scratch) rmSync(scratch, { recursive: true, force: true });
	});

	it('one grid video of the whole consult: tiles follow who is present, every voice mixed, signed and verified', async () => {
		const [red, green, blue] = [0, 1, 2].map((i) => browsers[i]!);
		const host = await openDemo(red!, sfu.url, room, 'host', { sub: 'composition-host', beforeLoad: rawMicrophone });
		const guest = await openDemo(green!, sfu.url, room, 'clinician', { beforeLoad: rawMicrophone });
		await waitForMediaFrom(host, guest);
		await waitForMediaFrom(guest, host);
		const recorded = (): string[] => sfu.server.recordings!.activeFor(room)?.recordedPeerIds ?? [];

		const started = await api<{ recordingId: string }>('POST', `/api/rooms/${room}/recordings`, {});
		expect(started.status).to.equal(201);
		const id = started.body.recordingId;
		await waitFor(() => recorded().length === 2, 20_000, 'both participants recorded');
		await sleep(12_000);

		// The third participant joins late.
		const joinBegan = Date.now();
		const late: DemoParticipant = await openDemo(blue!, sfu.url, room, 'clinician', { beforeLoad: rawMicrophone });
		await waitForMediaFrom(host, late, 30_000);
		await waitFor(() => recorded().includes(late.peerId), 20_000, 'the late joiner recorded');
		const lateRecorded = Date.now();
		await sleep(12_000);

		// The second leaves early.
		const leaveBegan = Date.now();
		await guest.page.evaluate(() => (globalThis as unknown as { demo: { room: { leave(): Promise<void> } } }).demo.room.leave());
		await waitFor(() => !recorded().includes(guest.peerId), 20_000, 'the leaver no longer recorded');
		const left = Date.now();
		await sleep(12_000);

		const stopped = await api<RecordingSummary>('POST', `/api/recordings/${id}/stop`);
		expect(stopped.status).to.equal(200);
		const stoppedAt = Date.now();
		const summary = await waitFor(
			async () => {
				const { body } = await api<RecordingSummary>('GET', `/api/recordings/${id}`);
				const state = body.finalize?.composition?.state;
				return state === 'done' || state === 'failed' ? body : null;
			},
			240_000,
			'the composed video',
		);
		expect(summary.finalize!.composition, JSON.stringify(summary.finalize!.composition)).to.include({ state: 'done', file: 'final/consult.mp4' });

		const dir = path.join(sfu.dataDir, 'recordings', id);
		// To look at a run: KEEP_COMPOSED_RECORDING=<folder> keeps the recording, the test's times and the server's log.
		const keep = process.env['KEEP_COMPOSED_RECORDING'];
		if (keep) {
			cpSync(dir, keep, { recursive: true });
			writeFileSync(path.join(keep, 'times.json'), JSON.stringify({ joinBegan, lateRecorded, leaveBegan, left, stoppedAt }));
			writeFileSync(path.join(keep, 'logs.ndjson'), sfu.logs.map((l) => JSON.stringify(l)).join('\n'));
		}
		const file = path.join(dir, 'final', 'consult.mp4');
		const doc = JSON.parse(readFileSync(path.join(dir, 'manifest.json'), 'utf8')) as ManifestDocument;
		const t0 = Date.parse(doc.startedAt);
		const at = (wallMs: number): number => (wallMs - t0) / 1000;

		// Plays anywhere: H.264 + AAC, fast-start, as long as the recording, decodes without an error.
		const probe = await ffprobe(file);
		expect(probe.streams.map((s) => s.codec_name).sort()).to.deep.equal(['aac', 'h264']);
		const recordingSeconds = (Date.parse(doc.stoppedAt!) - t0) / 1000;
		expect(Number(probe.format.duration)).to.be.within(recordingSeconds - 1, recordingSeconds + 1);
		const bytes = readFileSync(file);
		expect(bytes.indexOf('moov'), 'moov before mdat (fast start)').to.be.below(bytes.indexOf('mdat'));
		const { stderr } = await execFileAsync('ffmpeg', ['-v', 'error', '-i', file, '-f', 'null', '-']);
		expect(stderr).to.equal('');

		// The tiles at each moment, well inside each interval (≥ 2 s from a join or leave).
		const phases = [
			{ name: 'host and guest', from: at(t0) + 3, to: at(joinBegan) - 2, colours: ['green', 'red'], tones: [440, 620], silent: [970] },
			{ name: 'all three', from: at(lateRecorded) + 3, to: at(leaveBegan) - 2, colours: ['blue', 'green', 'red'], tones: [440, 620, 970], silent: [] },
			{ name: 'host and late joiner', from: at(left) + 2, to: at(stoppedAt) - 2, colours: ['blue', 'red'], tones: [440, 970], silent: [620] },
		];
		for (const phase of phases) {
			expect(phase.to - phase.from, `${phase.name}: a window to look at`).to.be.at.least(2);
			const t = (phase.from + phase.to) / 2;
			const frame = await frameAt(file, t);
			if (phase.colours.length === 2) {
				// Side by side, each 16:9 picture letterboxed in its half.
				expect([colourAt(frame, 320, 360), colourAt(frame, 960, 360)].sort(), `${phase.name} at ${t.toFixed(1)} s`).to.deep.equal(phase.colours);
				expect([colourAt(frame, 320, 60), colourAt(frame, 960, 660)], `${phase.name}: letterbox`).to.deep.equal(['dark', 'dark']);
			} else {
				// 2x2, the third tile centred on the bottom row.
				expect([colourAt(frame, 320, 180), colourAt(frame, 960, 180), colourAt(frame, 640, 540)].sort(), `${phase.name} at ${t.toFixed(1)} s`).to.deep.equal(phase.colours);
				expect([colourAt(frame, 100, 540), colourAt(frame, 1180, 540)], `${phase.name}: nothing beside the third tile`).to.deep.equal(['dark', 'dark']);
			}
			const levels: Record<number, number> = {};
			for (const tone of [440, 620, 970]) levels[tone] = await toneLevel(file, t, tone);
			const quietest = Math.min(...phase.tones.map((tone) => levels[tone]!));
			for (const tone of phase.tones) expect(levels[tone], `${phase.name}: ${tone} Hz heard (${JSON.stringify(levels)})`).to.be.above(-50);
			for (const tone of phase.silent) expect(levels[tone], `${phase.name}: ${tone} Hz absent (${JSON.stringify(levels)})`).to.be.below(quietest - 15);
		}

		// In the signed manifest, with its provenance; the verifier checks both.
		const entry = doc.entries.find((e): e is CompositionEntry => e.type === 'composition')!;
		expect(entry).to.include({ file: 'final/consult.mp4', width: WIDTH, height: HEIGHT });
		const segmentSeqs = new Set(doc.entries.filter((e) => e.type === 'segment').map((e) => e.seq));
		expect(entry.madeFrom.length).to.be.at.least(3);
		for (const source of entry.madeFrom) expect(segmentSeqs.has(source.seq)).to.equal(true);
		const trusted = { trustedPublicKeyPem: readFileSync(path.join(sfu.dataDir, 'keys', 'signing-ed25519.pub.pem'), 'utf8') };
		const report = await verifyRecording(dir, trusted);
		expect(report.problems).to.deep.equal([]);
		expect(report.compositions).to.equal(1);

		const tampered = path.join(scratch, 'tampered');
		cpSync(dir, tampered, { recursive: true });
		const copy = readFileSync(path.join(tampered, entry.file));
		const middle = Math.floor(copy.length / 2);
		copy[middle] = copy[middle]! ^ 0x01;
		writeFileSync(path.join(tampered, entry.file), copy);
		const tamperedReport = await verifyRecording(tampered, trusted);
		expect(tamperedReport.problems.map((p) => [p.kind, p.file])).to.deep.equal([['modified', 'final/consult.mp4']]);

		// Hosts fetch it with HTTP ranges (a browser's <video> seeks this way); nobody else.
		const ranged = await fetch(`${sfu.url}/api/recordings/${id}/composition`, { headers: { authorization: `Bearer ${hostToken}`, range: 'bytes=0-99' } });
		expect(ranged.status).to.equal(206);
		expect(Buffer.from(await ranged.arrayBuffer()).equals(bytes.subarray(0, 100))).to.equal(true);
		const patient = await fetch(`${sfu.url}/api/recordings/${id}/composition`, { headers: { authorization: `Bearer ${await mintToken({ room, role: 'patient' })}` } });
		expect(patient.status).to.equal(403);
		const viaFiles = await fetch(`${sfu.url}/api/recordings/${id}/files/final/consult.mp4`, { headers: { authorization: `Bearer ${hostToken}`, range: 'bytes=0-0' } });
		expect(viaFiles.status).to.equal(206);
		await viaFiles.arrayBuffer();
	});
});
