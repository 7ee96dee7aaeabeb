import { expect } from 'chai';
import { spawn, type ChildProcess } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { randomBytes } from 'node:crypto';
import { parse } from 'sdp-transform';
import { launchBrowser, type TestBrowser } from '../support/browser.js';
import { openDemo } from '../support/demoPage.js';
import { waitFor } from '../support/processes.js';
import { mintToken, startSfu, TestClient, type TestSfu } from '../support/sfu.js';
import { pushCommand, rtpPacket } from './ingestHelpers.js';

describe('ingest: device streams pushed over RTP', function () {
	this.timeout(90_000);
	let sfu: TestSfu;
	let browser: TestBrowser;
	let encoder: ChildProcess | null = null;
	const clients: TestClient[] = [];

	before(async () => {
		sfu = await startSfu({ ROOM_WAITING_ROOM: 'false' });
		browser = await launchBrowser();
	});
	after(async () => {
		encoder?.kill('SIGKILL');
		for (const client of clients) client.close();
		await browser?.close();
		await sfu?.close();
	});

	const connect = async (room: string, role: 'device' | 'observer' | 'patient' | 'clinician') => {
		const client = await TestClient.connect(sfu.url, { token: await mintToken({ room, role }) });
		clients.push(client);
		await client.ok('join', { protocolVersion: 1 });
		return client;
	};

	it('refuses an ingest endpoint to roles that may not publish a device stream', async () => {
		for (const role of ['observer', 'patient'] as const) {
			const client = await connect('ingest-roles', role);
			const result = await client.request('createIngest', {});
			expect(!result.ok && result.error.code, role).to.equal('forbidden');
		}
	});

	it('survives garbage, wrong payload types and wrong SSRCs on the ingest port', async () => {
		const device = await connect('ingest-garbage', 'device');
		const endpoint = await device.ok('createIngest', {});
		const video = endpoint.streams[0]!;
		const bystander = await connect('other-room', 'clinician');
		const socket = createSocket('udp4');
		const sendAll = async (packets: Buffer[]) => {
			for (const packet of packets) await new Promise<void>((resolve) => socket.send(packet, video.port, '127.0.0.1', () => resolve()));
		};
		const rtp = (pt: number, ssrc: number, seq: number) => rtpPacket(pt, ssrc, seq, 200);
		await sendAll([
			...Array.from({ length: 1000 }, () => randomBytes(1 + Math.floor(Math.random() * 1400))),
			...Array.from({ length: 300 }, (_, i) => rtp(96, video.ssrc, i)),
			...Array.from({ length: 300 }, (_, i) => rtp(video.payloadType, 12345, i)),
			...Array.from({ length: 200 }, (_, i) => rtp(video.payloadType, video.ssrc, i).subarray(0, 5 + (i % 7))),
		]);
		socket.close();
		const room = sfu.server.rooms.get('ingest-garbage')!;
		const producer = room.peers().find((p) => p.role === 'device')!.media.producers.get(video.producerId)!;
		expect(producer.closed).to.equal(false);
		expect((await bystander.request('createTransport', { direction: 'recv' })).ok).to.equal(true);
		const health = (await (await fetch(`${sfu.url}/healthz`)).json()) as { status: string };
		expect(health.status).to.equal('ok');
	});

	it('shows a 1080p H.264 device stream at full resolution to a clinician in Chromium', async () => {
		const room = 'surgical-consult';
		const device = await connect(room, 'device');
		const endpoint = await device.ok('createIngest', {});
		expect(endpoint.streams).to.have.length(1);
		const video = endpoint.streams[0]!;
		expect(video).to.deep.include({ kind: 'video', payloadType: 102, ip: '127.0.0.1' });
		// SRTP by default, with the SSRC drawn for this endpoint (not a documented constant).
		expect(endpoint.srtp?.cryptoSuite).to.equal('AES_CM_128_HMAC_SHA1_80');
		expect(video.ssrc).to.be.a('number').and.not.equal(22222222);
		expect(video.codec.mimeType).to.equal('video/H264');
		const sdp = parse(endpoint.sdp);
		expect(sdp.media[0]).to.deep.include({ type: 'video', port: video.port });
		expect(sdp.media[0]!.rtp[0]).to.deep.include({ payload: 102, codec: 'H264', rate: 90000 });

		encoder = spawn('ffmpeg', pushCommand(endpoint), { stdio: 'ignore' });
		const viewer = await openDemo(browser, sfu.url, room, 'clinician');
		const devicePeerId = sfu.server.rooms.get(room)!.peers().find((p) => p.role === 'device')!.id;
		const received = await waitFor(
			async () => {
				const track = await viewer.inbound(devicePeerId, 'video');
				return track && track.framesDecoded > 10 && track.frameWidth === 1920 ? track : null;
			},
			30_000,
			'1080p frames from the device',
		).catch(async (error: Error) => {
			const stats = JSON.stringify(await viewer.stats());
			const demoLog = await viewer.page.evaluate(() => JSON.stringify((globalThis as unknown as { demo: { log: unknown[]; error: unknown } }).demo.log.slice(-8)));
			throw new Error(`${error.message}; viewer stats: ${stats}; demo log: ${demoLog}; errors: ${browser.errors.join(' | ')}`);
		});
		expect(received.source).to.equal('device');
		expect(received.frameWidth).to.equal(1920);

		// The encoder restarts (a new process, a new source port): the endpoint
		// reopens on the same port and the picture comes back with no reconfiguration.
		encoder.kill('SIGKILL');
		await new Promise((resolve) => setTimeout(resolve, 1000));
		encoder = spawn('ffmpeg', pushCommand(endpoint), { stdio: 'ignore' });
		const again = await waitFor(
			async () => {
				const track = await viewer.inbound(devicePeerId, 'video');
				return track && track.producerId !== received.producerId && track.framesDecoded > 10 && track.frameWidth === 1920 ? track : null;
			},
			30_000,
			'frames from the restarted encoder',
		);
		expect(again.frameWidth).to.equal(1920);
	});
});
