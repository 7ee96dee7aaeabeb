import { expect } from 'chai';
import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, unlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { ManifestDocument, RecordingSummary, SegmentEntry } from '../../server/recording/index.js';
import { verifyRecording } from '../../server/recording/index.js';
import { recordingSdp, safeFmtp } from '../../server/recording/sdp.js';
import { launchBrowser, type TestBrowser } from '../support/browser.js';
import { openDemo, type DemoParticipant } from '../support/demoPage.js';
import { joinWithMedia, opusParameters, vp8SimulcastParameters } from '../support/media.js';
import { isAlive, waitFor } from '../support/processes.js';
import { mintToken, startSfu, TestClient, type TestSfu } from '../support/sfu.js';

/** The injected payload: if any of it reached ffmpeg, `-c copy` puts it verbatim into a segment. */
const MARKER = Buffer.from('INJECTED-MEDIA-NOT-FROM-THE-SFU!');

/** UDP sockets of the machine (IPv4), from /proc/net/udp. */
function udpSockets(): { localIp: string; localPort: number; remoteIp: string; remotePort: number }[] {
	const ip = (hex: string) =>
		hex
			.match(/../g)!
			.reverse()
			.map((b) => parseInt(b, 16))
			.join('.');
	return readFileSync('/proc/net/udp', 'utf8')
		.split('\n')
		.slice(1)
		.filter(Boolean)
		.map((line) => {
			const [local, remote] = line.trim().split(/\s+/).slice(1, 3) as [string, string];
			const [lip, lport] = local.split(':') as [string, string];
			const [rip, rport] = remote.split(':') as [string, string];
			return { localIp: ip(lip), localPort: parseInt(lport, 16), remoteIp: ip(rip), remotePort: parseInt(rport, 16) };
		});
}

/** The recorder's SDP files of a participant folder: port and payload type per m-line. */
function recorderStreams(dir: string): { kind: string; port: number; pt: number }[] {
	const sdp = readdirSync(dir)
		.filter((n) => n.endsWith('.sdp'))
		.sort()
		.at(-1)!;
	return [...readFileSync(path.join(dir, sdp), 'utf8').matchAll(/^m=(audio|video) (\d+) RTP\/AVP (\d+)/gm)].map((m) => ({ kind: m[1]!, port: Number(m[2]), pt: Number(m[3]) }));
}

function rtpPacket(pt: number, seq: number, ssrc: number): Buffer {
	const header = Buffer.alloc(12);
	header[0] = 0x80;
	header[1] = pt & 0x7f;
	header.writeUInt16BE(seq & 0xffff, 2);
	header.writeUInt32BE((seq * 960) >>> 0, 4);
	header.writeUInt32BE(ssrc >>> 0, 8);
	return Buffer.concat([header, MARKER, MARKER, MARKER]);
}

function bindUdp(address: string): Promise<UdpSocket> {
	return new Promise((resolve, reject) => {
		const socket = createSocket('udp4');
		socket.once('error', reject);
		socket.bind(0, address, () => resolve(socket));
	});
}

function filesUnder(dir: string): string[] {
	return readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? [path.join(dir, e.name), ...filesUnder(path.join(dir, e.name))] : [path.join(dir, e.name)]));
}

const mode = (file: string) => statSync(file).mode & 0o777;

/** Unhandled rejections and uncaught exceptions while a test runs: the server shares this process. */
function watchProcessErrors(): { errors: unknown[]; stop(): void } {
	const errors: unknown[] = [];
	const onError = (error: unknown) => errors.push(error);
	process.on('unhandledRejection', onError);
	process.on('uncaughtExceptionMonitor', onError);
	return {
		errors,
		stop() {
			process.off('unhandledRejection', onError);
			process.off('uncaughtExceptionMonitor', onError);
		},
	};
}

describe('recording hardening: injection, silence, worker death, failures, capacity', function () {
	this.timeout(180_000);

	describe('with a real browser participant', () => {
		let sfu: TestSfu;
		let browser: TestBrowser;
		let guest: DemoParticipant;
		let host: TestClient;
		const room = 'hardened-consult';
		let previousUmask = 0;

		before(async () => {
			// Files must come out private whatever the umask: run the server under the loosest one.
			previousUmask = process.umask(0);
			sfu = await startSfu({ RECORDING_SEGMENT_SECONDS: '2', ROOM_WAITING_ROOM: 'false', MEDIASOUP_NUM_WORKERS: '2', WORKER_RESPAWN_DELAY_MS: '100', RECORDING_PORT_MIN: '47000', RECORDING_PORT_MAX: '47099' });
			browser = await launchBrowser();
			guest = await openDemo(browser, sfu.url, room, 'clinician');
			host = await TestClient.connect(sfu.url, { token: await mintToken({ room, role: 'host' }) });
		});

		// A failed test must not leave its recording running into the next one.
		afterEach(async () => {
			await sfu?.server.recordings?.activeFor(room)?.stop();
		});

		after(async () => {
			host?.close();
			await browser?.close();
			await sfu?.close();
			process.umask(previousUmask);
		});

		it('refuses CR/LF and other control characters in RTP parameters with invalid_payload; the socket stays usable', async () => {
			const { send } = await joinWithMedia(host);
			const attacks: [string, ReturnType<typeof opusParameters>][] = [];
			const withParams = (parameters: Record<string, string | number>) => {
				const p = opusParameters();
				p.codecs[0]!.parameters = parameters;
				return p;
			};
			attacks.push(['fmtp value', withParams({ useinbandfec: 1, x: '1\r\na=recvonly\r\nc=IN IP4 0.0.0.0' })]);
			attacks.push(['fmtp key', withParams({ 'x\r\nc=IN IP4 0.0.0.0\r\na': 1 })]);
			attacks.push(['mid', { ...opusParameters(), mid: '0\n' }]);
			attacks.push(['cname', { ...opusParameters(), rtcp: { cname: 'a\u0000b' } }]);
			attacks.push(['header extension uri', { ...opusParameters(), headerExtensions: [{ uri: 'urn:x\r\nm=audio 9 RTP/AVP 0', id: 1 }] }]);
			attacks.push(['rid', { ...vp8SimulcastParameters(), encodings: [{ rid: 'r0\u007f' }] }]);
			attacks.push(['unknown loose field', { ...opusParameters(), extra: 'x\ry' }]);
			for (const [what, rtpParameters] of attacks) {
				const kind = rtpParameters.codecs[0]!.mimeType.startsWith('video') ? 'video' : 'audio';
				const result = await host.request('produce', { transportId: send.id, kind, rtpParameters, source: kind === 'video' ? 'camera' : 'microphone' });
				expect(result.ok, what).to.equal(false);
				expect(!result.ok && result.error.code, what).to.equal('invalid_payload');
				expect(!result.ok && result.error.message, what).to.match(/control characters/);
			}
			// Same socket, same transport: a clean producer is taken (it never sends: a silent participant).
			const clean = await host.request('produce', { transportId: send.id, kind: 'audio', rtpParameters: opusParameters(), source: 'microphone' });
			expect(clean.ok).to.equal(true);
		});

		it('the recorder SDP keeps only safe fmtp tokens (defense in depth)', () => {
			expect(safeFmtp({ 'profile-level-id': '42e01f', 'packetization-mode': 1, x: '1\r\nc=IN IP4 0.0.0.0', 'a b': 1, ok: 'Z0IAH+KQ/A==,aM48gA==' })).to.deep.equal([
				'profile-level-id=42e01f',
				'packetization-mode=1',
				'ok=Z0IAH+KQ/A==,aM48gA==',
			]);
			const sdp = recordingSdp(
				[{ kind: 'audio', port: 40000, rtpParameters: { codecs: [{ mimeType: 'audio/opus', payloadType: 100, clockRate: 48000, channels: 2, parameters: { useinbandfec: 1, evil: 'x\r\na=sendonly' } }] } }],
				{ source: '127.0.0.2', local: '127.0.0.1' },
			);
			expect(sdp).to.not.match(/evil|sendonly/);
			expect(sdp).to.match(/a=fmtp:100 useinbandfec=1\r\n/);
			expect(() => recordingSdp([{ kind: 'audio', port: 40000, rtpParameters: { codecs: [{ mimeType: 'audio/op\r\nus', payloadType: 100, clockRate: 48000 }] } }], { source: '127.0.0.2', local: '127.0.0.1' })).to.throw();
		});

		it('ffmpeg listens on loopback only and takes the worker packets alone: injected RTP never reaches a segment; files are 0600 and folders 0700', async () => {
			// The demo publishes audio first and the camera right after: record both from the start.
			await waitFor(() => sfu.server.rooms.get(room)!.peer(guest.peerId).media.producers.size === 2, 20_000, "the guest's two producers");
			const { recordingId } = await host.ok('startRecording', {});
			const recording = sfu.server.recordings!.activeFor(room)!;
			await waitFor(() => recording.manifest.entries.some((e) => e.type === 'segment' && e.participantId === guest.peerId), 20_000, "a sealed segment of the browser's media");
			const dir = path.join(sfu.dataDir, 'recordings', recordingId);
			const streams = recorderStreams(path.join(dir, `p-${guest.peerId}`));
			expect(streams.map((s) => s.kind).sort()).to.deep.equal(['audio', 'video']);

			// Every socket on the recording ports is on loopback; ffmpeg's RTP sockets are
			// connected to the worker's feed socket on the same port.
			const onRecordingPorts = () => udpSockets().filter((s) => s.localPort >= 47000 && s.localPort <= 47099);
			await waitFor(
				() =>
					streams.every(
						({ port }) =>
							onRecordingPorts().some((s) => s.localIp === '127.0.0.1' && s.localPort === port && s.remoteIp === '127.0.0.2' && s.remotePort === port) &&
							onRecordingPorts().some((s) => s.localIp === '127.0.0.2' && s.localPort === port),
					),
				10_000,
				'ffmpeg connected to the feed on every recorded port',
			);
			const sockets = onRecordingPorts();
			expect(sockets.length).to.be.at.least(streams.length * 2);
			for (const s of sockets) expect(s.localIp, `socket on port ${s.localPort}`).to.match(/^127\./);

			// A stray local socket (and one on the feed's address, another port) sends
			// marked RTP with the recorder's payload types for 4 s.
			const pid = recording.recorderPid(guest.peerId);
			const strays = [await bindUdp('127.0.0.1'), await bindUdp('127.0.0.2')];
			try {
				for (let i = 0; i < 200; i++) {
					for (const stray of strays) {
						for (const { port, pt } of streams) {
							stray.send(rtpPacket(pt, 60_000 + i, 0x1234 + i), port, '127.0.0.1');
							stray.send(rtpPacket(pt, 60_000 + i, 0x1234 + i), port + 1, '127.0.0.1');
						}
					}
					await sleep(20);
				}
			} finally {
				for (const stray of strays) stray.close();
			}
			// Long enough for two more segments to be cut and sealed.
			const sealed = recording.manifest.entries.length;
			await waitFor(() => recording.manifest.entries.length >= sealed + 2, 20_000, 'more sealed segments');
			expect(recording.recorderPid(guest.peerId)).to.equal(pid);
			await host.ok('stopRecording', {});
			await host.waitForNotification('recordingState', (d) => d.recordingId === recordingId && !d.active, 20_000);

			const doc = JSON.parse(readFileSync(path.join(dir, 'manifest.json'), 'utf8')) as ManifestDocument;
			expect(doc.state).to.equal('stopped');
			expect(doc.entries.filter((e) => e.type === 'gap')).to.deep.equal([]);
			const segments = filesUnder(dir).filter((f) => f.endsWith('.mkv'));
			expect(segments.length).to.be.at.least(3);
			for (const file of segments) expect(readFileSync(file).includes(MARKER), path.basename(file)).to.equal(false);
			expect((await verifyRecording(dir)).problems).to.deep.equal([]);

			// Modes, with the process umask at 000.
			const summary = await waitFor(
				async () => {
					const response = await fetch(`${sfu.url}/api/recordings/${recordingId}`, { headers: { authorization: `Bearer ${await mintToken({ room, role: 'host' })}` } });
					const body = (await response.json()) as RecordingSummary;
					return body.finalize?.state === 'done' ? body : null;
				},
				60_000,
				'finalization',
			);
			expect(summary.finalize!.outputs.length).to.be.at.least(1);
			expect(mode(dir).toString(8)).to.equal('700');
			for (const file of filesUnder(dir)) {
				const isDir = statSync(file).isDirectory();
				expect(mode(file).toString(8), path.relative(dir, file)).to.equal(isDir ? '700' : '600');
			}
			expect(mode(path.join(sfu.dataDir, 'recordings')).toString(8)).to.equal('700');
		});

		it('a camera muted from the start (paused video, live audio) never makes ffmpeg exit; unmuting it brings video into the recording', async () => {
			const mute = (muted: boolean) =>
				guest.page.evaluate(async (m) => {
					const local = (globalThis as unknown as { demo: { room: { localParticipant: { mute(s: string): Promise<void>; unmute(s: string): Promise<void> } } } }).demo.room.localParticipant;
					await (m ? local.mute('camera') : local.unmute('camera'));
				}, muted);
			// The demo publishes audio first and the camera right after: wait for both, then mute the camera.
			const producers = () => [...sfu.server.rooms.get(room)!.peer(guest.peerId).media.producers.values()];
			await waitFor(() => producers().length === 2, 20_000, "the guest's two producers");
			await mute(true);
			await waitFor(() => producers().find((p) => p.kind === 'video')!.paused, 10_000, 'the camera paused on the server');
			await host.request('join', { protocolVersion: 1 }); // already joined when the tests run in order
			const { recordingId } = await host.ok('startRecording', {});
			const recording = sfu.server.recordings!.activeFor(room)!;
			await waitFor(() => recording.recordedPeerIds.includes(guest.peerId), 10_000, 'the guest recorded');
			const pid = await waitFor(() => recording.recorderPid(guest.peerId), 10_000, 'its ffmpeg');
			await sleep(25_000);
			// Before the fix: ffmpeg exited with code 1 every ~5 s (no size for a video that never sent a frame), restarted, and after 5 deaths in a minute the room's recording stopped as recorder_failed.
			expect(recording.recorderPid(guest.peerId)).to.equal(pid);
			expect(recording.active).to.equal(true);
			const mine = () => recording.manifest.entries.filter((e) => e.participantId === guest.peerId);
			expect(mine().filter((e) => e.type === 'gap')).to.deep.equal([]);
			const muted = mine().filter((e): e is SegmentEntry => e.type === 'segment');
			expect(muted.length).to.be.at.least(5);
			for (const segment of muted) expect(segment.codecs).to.deep.equal(['opus']);
			// Unmuted: the camera joins the recording (a new run of segments with both streams).
			await mute(false);
			await waitFor(() => mine().some((e) => e.type === 'segment' && e.codecs.includes('vp8') && e.codecs.includes('opus')), 30_000, 'a segment with audio and video');
			expect(mine().filter((e) => e.type === 'gap')).to.deep.equal([]);
			await host.ok('stopRecording', {});
			const dir = path.join(sfu.dataDir, 'recordings', recordingId);
			expect((await verifyRecording(dir)).problems).to.deep.equal([]);
		});

		it('a worker dying under the room stops the recording with recording_interrupted, tells everyone, and the SDK turns its indicator off', async () => {
			const observer = await TestClient.connect(sfu.url, { token: await mintToken({ room, role: 'observer' }) });
			try {
				await observer.ok('join', { protocolVersion: 1 });
				const { recordingId } = await host.ok('startRecording', {});
				const recording = sfu.server.recordings!.activeFor(room)!;
				await waitFor(() => recording.manifest.entries.some((e) => e.type === 'segment' && e.participantId === guest.peerId), 20_000, 'a sealed segment');
				await guest.page.waitForFunction(() => (globalThis as unknown as { demo: { room: { recording: { active: boolean } } } }).demo.room.recording.active, { timeout: 10_000 });
				const victim = sfu.server.rooms.get(room)!.media.routers[0]!.worker.pid;
				process.kill(victim, 'SIGKILL');
				const told = await observer.waitForNotification('recordingState', (d) => d.recordingId === recordingId && !d.active, 15_000);
				expect(told.error?.code).to.equal('recording_interrupted');
				// The SDK in the browser got it before its connection dropped, and after rejoining the rebuilt room it still shows "not recording".
				const sdk = await waitFor(
					() =>
						guest.page.evaluate(() => {
							const r = (globalThis as unknown as { demo: { room: { recording: { active: boolean; error?: { code: string } } } } }).demo.room.recording;
							return r.active ? null : { active: r.active, code: r.error?.code ?? null };
						}),
					15_000,
					'the SDK indicator to go off',
				);
				expect(sdk).to.deep.equal({ active: false, code: 'recording_interrupted' });
				const dir = path.join(sfu.dataDir, 'recordings', recordingId);
				const doc = await waitFor(
					() => {
						const d = JSON.parse(readFileSync(path.join(dir, 'manifest.json'), 'utf8')) as ManifestDocument;
						return d.state === 'recording' ? null : d;
					},
					15_000,
					'the final manifest',
				);
				expect(doc.state).to.equal('failed');
				expect(doc.error?.code).to.equal('recording_interrupted');
				expect((await verifyRecording(dir)).problems).to.deep.equal([]);
				expect(sfu.server.recordings!.activeFor(room)).to.equal(undefined);
			} finally {
				observer.close();
			}
		});
	});

	describe('a participant who joins muted (paused microphone and camera) and sends nothing', () => {
		let sfu: TestSfu;
		after(async () => sfu?.close());

		it('is recorded without any ffmpeg exit, restart or gap; once unmuted, one ffmpeg waits through 30 s of silence', async () => {
			sfu = await startSfu({ RECORDING_SEGMENT_SECONDS: '2', ROOM_WAITING_ROOM: 'false', RECORDING_PORT_MIN: '47100', RECORDING_PORT_MAX: '47199' });
			const room = 'muted-consult';
			const host = await TestClient.connect(sfu.url, { token: await mintToken({ room, role: 'host' }) });
			try {
				const { send } = await joinWithMedia(host);
				const ids: Record<string, string> = {};
				for (const kind of ['audio', 'video'] as const) {
					ids[kind] = (
						await host.ok('produce', { transportId: send.id, kind, rtpParameters: kind === 'audio' ? opusParameters() : vp8SimulcastParameters(), source: kind === 'audio' ? 'microphone' : 'camera', paused: true })
					).id;
				}
				const { recordingId } = await host.ok('startRecording', {});
				const recording = sfu.server.recordings!.activeFor(room)!;
				const me = await waitFor(() => recording.recordedPeerIds[0], 10_000, 'the participant listed as recorded');
				// Nothing to record yet: no process to die.
				await sleep(5000);
				expect(recording.recorderPid(me)).to.equal(undefined);
				// Unmuted, but nothing arrives (this client never sends): before the fix
				// ffmpeg gave up after ~20 s of silence ("Connection timed out") and was restarted in a loop.
				await host.ok('resumeProducer', { producerId: ids['audio']! });
				const pid = await waitFor(() => recording.recorderPid(me), 10_000, 'its ffmpeg');
				await sleep(30_000);
				expect(recording.recorderPid(me)).to.equal(pid);
				expect(isAlive(pid)).to.equal(true);
				expect(recording.active).to.equal(true);
				expect(recording.recordedPeerIds).to.deep.equal([me]);
				expect(recording.manifest.entries.filter((e) => e.type === 'gap')).to.deep.equal([]);
				expect(sfu.logs.filter((l) => l['msg'] === 'ffmpeg died; starting a new segment run')).to.deep.equal([]);
				await host.ok('stopRecording', {});
				const doc = sfu.server.recordings!.manifest(recordingId);
				expect(doc.state).to.equal('stopped');
				expect(doc.error).to.equal(null);
			} finally {
				host.close();
			}
		});
	});

	describe('failures that must not take the node down', () => {
		let sfu: TestSfu;
		let binDir: string;
		let watch: ReturnType<typeof watchProcessErrors>;
		const room = 'failing-storage';

		before(async () => {
			binDir = mkdtempSync(path.join(tmpdir(), 'sfu-ffmpeg-bin-'));
			symlinkSync('/usr/bin/ffmpeg', path.join(binDir, 'ffmpeg'));
			watch = watchProcessErrors();
			sfu = await startSfu({ FFMPEG_PATH: path.join(binDir, 'ffmpeg'), RECORDING_SEGMENT_SECONDS: '2', ROOM_WAITING_ROOM: 'false', RECORDING_PORT_MIN: '47200', RECORDING_PORT_MAX: '47299' });
		});
		after(async () => {
			watch?.stop();
			await sfu?.close();
			rmSync(binDir, { recursive: true, force: true });
		});

		const alive = async () => {
			const response = await fetch(`${sfu.url}/healthz`);
			expect(response.status).to.be.below(500);
			expect(watch.errors.map(String)).to.deep.equal([]);
		};

		it('ffmpeg missing at spawn: the recording fails at once with recorder_failed, stop answers, the node keeps serving', async () => {
			const host = await TestClient.connect(sfu.url, { token: await mintToken({ room, role: 'host' }) });
			try {
				await joinWithMedia(host, { produce: ['audio'] });
				unlinkSync(path.join(binDir, 'ffmpeg'));
				const startedAt = Date.now();
				const { recordingId } = await host.ok('startRecording', {});
				const stopped = await host.waitForNotification('recordingState', (d) => d.recordingId === recordingId && !d.active, 10_000);
				expect(stopped.error?.code).to.equal('recorder_failed');
				expect(stopped.error?.message).to.match(/ENOENT|cannot start/);
				expect(Date.now() - startedAt).to.be.below(10_000);
				const again = await host.request('stopRecording', {});
				expect(!again.ok && again.error.code).to.equal('invalid_state');
				expect(sfu.server.recordings!.manifest(recordingId).state).to.equal('failed');
				await sleep(1000);
				await alive();
			} finally {
				host.close();
			}
		});

		it('a manifest that cannot be written: the recording ends with storage_unwritable, no unhandled rejection, the node keeps serving', async () => {
			symlinkSync('/usr/bin/ffmpeg', path.join(binDir, 'ffmpeg'));
			const host = await TestClient.connect(sfu.url, { token: await mintToken({ room: `${room}-2`, role: 'host' }) });
			try {
				await joinWithMedia(host, { produce: ['audio'] });
				const { recordingId } = await host.ok('startRecording', {});
				// Root ignores file modes: a directory where the manifest's temporary file goes fails every write.
				mkdirSync(path.join(sfu.dataDir, 'recordings', recordingId, 'manifest.json.tmp'));
				const result = await host.request('stopRecording', {}, 20_000);
				expect(result.ok).to.equal(true);
				const stopped = await host.waitForNotification('recordingState', (d) => d.recordingId === recordingId && !d.active, 10_000);
				expect(stopped.error?.code).to.equal('storage_unwritable');
				expect(sfu.logs.some((l) => l['msg'] === 'cannot write the final manifest')).to.equal(true);
				// Finalization of it (from the last manifest written) must not throw either.
				await sleep(2000);
				await alive();
				// A new recording works.
				rmSync(path.join(sfu.dataDir, 'recordings', recordingId, 'manifest.json.tmp'), { recursive: true });
				const next = await host.ok('startRecording', {});
				await host.ok('stopRecording', {});
				expect(sfu.server.recordings!.manifest(next.recordingId).state).to.equal('stopped');
				await alive();
			} finally {
				host.close();
			}
		});
	});

	describe('capacity: recorder processes and ports', () => {
		let sfu: TestSfu;
		afterEach(async () => sfu?.close());

		const participant = async (room: string, role: 'host' | 'clinician', kinds: ('audio' | 'video')[]) => {
			const client = await TestClient.connect(sfu.url, { token: await mintToken({ room, role }) });
			const { join } = await joinWithMedia(client, { produce: kinds });
			return { client, peerId: join.peerId };
		};

		it('RECORDING_MAX_FFMPEG: a participant past the cap is not listed as recorded (recording_capacity) and is recorded once a slot frees; a new recording is refused with limit_exceeded', async () => {
			sfu = await startSfu({ RECORDING_MAX_FFMPEG: '1', ROOM_WAITING_ROOM: 'false', RECORDING_PORT_MIN: '47300', RECORDING_PORT_MAX: '47399' });
			const a = await participant('cap-1', 'host', ['audio']);
			const b = await participant('cap-1', 'clinician', ['audio']);
			const other = await participant('cap-2', 'host', ['audio']);
			try {
				const { recordingId } = await a.client.ok('startRecording', {});
				const state = await a.client.waitForNotification('recordingState', (d) => d.recordingId === recordingId && d.active && d.error?.code === 'recording_capacity' && d.recordedPeerIds.length > 0, 10_000);
				expect(state.recordedPeerIds).to.have.length(1);
				expect(state.error?.message).to.match(/1 participant\(s\) cannot be recorded.*RECORDING_MAX_FFMPEG 1/);
				// Never, not even for a moment, were both listed.
				expect(a.client.notifications.filter((n) => n.name === 'recordingState' && n.data.recordedPeerIds.length > 1)).to.deep.equal([]);
				const recording = sfu.server.recordings!.activeFor('cap-1')!;
				expect(recording.recordedPeerIds).to.have.length(1);
				expect(sfu.server.recordings!.recorders).to.deep.equal({ inUse: 1, max: 1 });
				const refused = await other.client.request('startRecording', {});
				expect(!refused.ok && refused.error.code).to.equal('limit_exceeded');
				// The recorded one leaves: the other is recorded now.
				const first = recording.recordedPeerIds[0]!;
				await (first === a.peerId ? a : b).client.ok('leave', {});
				await waitFor(() => recording.recordedPeerIds.length === 1 && recording.recordedPeerIds[0] !== first, 15_000, 'the refused participant recorded');
				const remaining = first === a.peerId ? b : a;
				const later = await remaining.client.waitForNotification('recordingState', (d) => d.active && d.recordedPeerIds.includes(remaining.peerId) && !d.error, 10_000);
				expect(later.recordedPeerIds).to.deep.equal([remaining.peerId]);
			} finally {
				for (const p of [a, b, other]) p.client.close();
			}
		});

		it('recording ports exhausted: the participant without a port is not listed as recorded (recording_capacity)', async () => {
			// One port pair: enough for one track.
			sfu = await startSfu({ ROOM_WAITING_ROOM: 'false', RECORDING_PORT_MIN: '47400', RECORDING_PORT_MAX: '47401' });
			const a = await participant('ports', 'host', ['audio']);
			try {
				const { recordingId } = await a.client.ok('startRecording', {});
				const recording = sfu.server.recordings!.activeFor('ports')!;
				await waitFor(() => recording.recorderPid(a.peerId), 10_000, 'the first participant recorded');
				const b = await participant('ports', 'clinician', ['audio']);
				try {
					const state = await a.client.waitForNotification('recordingState', (d) => d.recordingId === recordingId && d.active && d.error?.code === 'recording_capacity', 10_000);
					expect(state.recordedPeerIds).to.deep.equal([a.peerId]);
					expect(state.error?.message).to.match(/port/);
					expect(recording.recordedPeerIds).to.deep.equal([a.peerId]);
					expect(sfu.server.recordings!.recorders.inUse).to.equal(1);
				} finally {
					b.client.close();
				}
			} finally {
				a.client.close();
			}
		});
	});
});
