import { expect } from 'chai';
import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { NotificationMap } from '../../server/protocol/index.js';
import { waitFor } from '../support/processes.js';
import { freeTcpPort } from '../support/redis.js';
import { mintToken, startSfu, TestClient, type TestSfu } from '../support/sfu.js';
import { waitForIngestState } from './ingestHelpers.js';

type IngestState = NotificationMap['ingestState'];

describe('ingest: sources the server pulls', function () {
	this.timeout(120_000);
	let sfu: TestSfu;
	let media: string;
	let host: TestClient;
	const children: ChildProcess[] = [];
	const room = 'pull-room';

	before(async () => {
		media = mkdtempSync(path.join(tmpdir(), 'sfu-ingest-media-'));
		// A recorded endoscopy clip stand-in: H.264 + AAC in MP4, and a VP8 WebM that needs transcoding.
		execFileSync('ffmpeg', ['-v', 'error', '-f', 'lavfi', '-i', 'testsrc2=size=640x360:rate=30', '-f', 'lavfi', '-i', 'sine=frequency=600:sample_rate=48000', '-t', '3', '-c:v', 'libx264', '-g', '30', '-pix_fmt', 'yuv420p', '-c:a', 'aac', path.join(media, 'clip.mp4')]);
		execFileSync('ffmpeg', ['-v', 'error', '-f', 'lavfi', '-i', 'testsrc2=size=320x240:rate=15', '-t', '3', '-c:v', 'libvpx', '-b:v', '300k', path.join(media, 'clip.webm')]);
		// The RTSP camera stand-in listens on loopback, which pulled sources may reach only when allowlisted.
		sfu = await startSfu({ INGEST_FILE_ROOT: media, ROOM_WAITING_ROOM: 'false', MAX_INGEST_SOURCES_PER_ROOM: '3', INGEST_ALLOWED_HOSTS: '127.0.0.1' });
		host = await TestClient.connect(sfu.url, { token: await mintToken({ room, role: 'host' }) });
		await host.ok('join', { protocolVersion: 1 });
	});

	after(async () => {
		for (const child of children) child.kill('SIGKILL');
		host?.close();
		await sfu?.close();
		rmSync(media, { recursive: true, force: true });
	});

	const stateOf = (ingestId: string, state: IngestState['state'], timeoutMs = 20_000) => waitForIngestState(host, sfu, ingestId, state, timeoutMs);

	const producerBytes = async (peerId: string): Promise<number> => {
		const peer = sfu.server.rooms.get(room)!.peer(peerId);
		let bytes = 0;
		for (const producer of peer.media.producers.values()) for (const stat of await producer.getStats()) bytes += stat.byteCount;
		return bytes;
	};

	it('refuses sources it must not open', async () => {
		for (const [url, code] of [
			['/etc/passwd', 'forbidden'],
			[`file://${media}/../../etc/passwd`, 'forbidden'],
			['gopher://example/x', 'invalid_payload'],
			['relative/path.mp4', 'invalid_payload'],
		] as const) {
			const result = await host.request('addIngestSource', { url });
			expect(!result.ok && result.error.code, url).to.equal(code);
		}
		const clinician = await TestClient.connect(sfu.url, { token: await mintToken({ room, role: 'clinician' }) });
		await clinician.ok('join', { protocolVersion: 1 });
		const forbidden = await clinician.request('addIngestSource', { url: path.join(media, 'clip.mp4') });
		expect(!forbidden.ok && forbidden.error.code).to.equal('forbidden');
		clinician.close();
	});

	it('forwards an H.264 file without re-encoding, audio transcoded to opus, as a device participant', async () => {
		const { ingestId } = await host.ok('addIngestSource', { url: path.join(media, 'clip.mp4'), name: 'Endoscope 1' });
		const live = await stateOf(ingestId, 'live');
		expect(live.name).to.equal('Endoscope 1');
		const joined = await host.waitForNotification('peerJoined', (d) => d.peer.id === live.peerId);
		expect(joined.peer.role).to.equal('device');
		await host.waitForNotification('producerNew', (d) => d.producer.peerId === live.peerId && d.producer.kind === 'audio');
		const video = await host.waitForNotification('producerNew', (d) => d.producer.peerId === live.peerId && d.producer.kind === 'video');
		expect(video.producer.source).to.equal('device');
		expect(sfu.server.ingest.get(ingestId)!.status.mode).to.equal('copy');
		const before = await producerBytes(live.peerId);
		await waitFor(async () => (await producerBytes(live.peerId)) > before + 50_000, 10_000, 'media flowing');
		await host.ok('removeIngestSource', { ingestId });
		await host.waitForNotification('peerLeft', (d) => d.peerId === live.peerId);
	});

	it('transcodes a source that is not H.264', async () => {
		const { ingestId } = await host.ok('addIngestSource', { url: `file://${path.join(media, 'clip.webm')}` });
		await stateOf(ingestId, 'live');
		expect(sfu.server.ingest.get(ingestId)!.status.mode).to.equal('transcode');
		await host.ok('removeIngestSource', { ingestId });
	});

	it('pulls RTSP, retries while the source is gone, and recovers by itself', async function () {
		if (spawnSync('which', ['rtsp-server-perl']).status !== 0) {
			console.log('      (skipped: rtsp-server-perl is not installed)');
			this.skip();
		}
		const [clientPort, sourcePort] = [await freeTcpPort(), await freeTcpPort()];
		// An IP camera with its own RTSP server: the relay plus the encoder pushing into it.
		const startServer = async () => {
			const child = spawn('rtsp-server-perl', ['-c', String(clientPort), '-s', String(sourcePort), '--client_listen_address', '127.0.0.1', '--source_listen_address', '127.0.0.1', '--rtp_start_port', '27000', '-l', '1'], { stdio: 'ignore' });
			children.push(child);
			await waitFor(() => spawnSync('bash', ['-c', `exec 3<>/dev/tcp/127.0.0.1/${sourcePort}`]).status === 0, 10_000, 'the RTSP server');
			return child;
		};
		let server = await startServer();
		const camera = () => {
			const child = spawn('ffmpeg', ['-v', 'error', '-re', '-f', 'lavfi', '-i', 'testsrc2=size=640x360:rate=30', '-c:v', 'libx264', '-preset', 'ultrafast', '-tune', 'zerolatency', '-g', '30', '-x264-params', 'repeat-headers=1', '-pix_fmt', 'yuv420p', '-f', 'rtsp', `rtsp://127.0.0.1:${sourcePort}/or-camera`], { stdio: 'ignore' });
			children.push(child);
			return child;
		};
		let source = camera();
		await new Promise((resolve) => setTimeout(resolve, 1500));
		const { ingestId } = await host.ok('addIngestSource', { url: `rtsp://127.0.0.1:${clientPort}/or-camera`, name: 'OR camera' });
		const live = await stateOf(ingestId, 'live', 30_000);
		expect(sfu.server.ingest.get(ingestId)!.status.mode).to.equal('copy');

		// The camera reboots.
		source.kill('SIGKILL');
		server.kill('SIGKILL');
		const retrying = await stateOf(ingestId, 'retrying', 30_000);
		expect(retrying.reason).to.be.a('string').and.not.empty;
		expect(retrying.attempt).to.be.at.least(1);
		const liveCount = host.notifications.filter((n) => n.name === 'ingestState' && n.data.state === 'live').length;

		server = await startServer();
		source = camera();
		await waitFor(() => host.notifications.filter((n) => n.name === 'ingestState' && n.data.state === 'live').length > liveCount, 60_000, 'the source to come back live').catch((error: Error) => {
			const seen = host.notifications.filter((n) => n.name === 'ingestState').map((n) => JSON.stringify(n.data)).slice(-6);
			const logs = sfu.logs.filter((l) => l['module'] === 'ingest').slice(-6).map((l) => JSON.stringify(l));
			throw new Error(`${error.message}; states: ${seen.join('\n')}; logs: ${logs.join('\n')}`);
		});
		const before = await producerBytes(live.peerId);
		await waitFor(async () => (await producerBytes(live.peerId)) > before, 10_000, 'media after recovery');
		const listed = (await (await fetch(`${sfu.url}/api/rooms/${room}/ingests`, { headers: { authorization: `Bearer ${await mintToken({ room, role: 'host' })}` } })).json()) as { ingests: { ingestId: string; state: string }[] };
		expect(listed.ingests.find((i) => i.ingestId === ingestId)?.state).to.equal('live');
		source.kill('SIGKILL');
		server.kill('SIGKILL');
	});
});
