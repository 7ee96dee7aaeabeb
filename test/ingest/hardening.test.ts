import { expect } from 'chai';
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pino } from 'pino';
import { EgressPolicy } from '../../server/ingest/EgressPolicy.js';
import { PullIngest, type PullIngestStatus } from '../../server/ingest/PullIngest.js';
import { parseSource, redactSource, resolveInput } from '../../server/ingest/sourceUrl.js';
import type { IngestEndpointInfo, NotificationMap } from '../../server/protocol/index.js';
import { NO_CHANNEL } from '../../server/rooms/index.js';
import { waitFor } from '../support/processes.js';
import { freeTcpPort } from '../support/redis.js';
import { mintToken, startSfu, TestClient, type TestSfu } from '../support/sfu.js';
import { pushCommand, rtpPacket, waitForIngestState } from './ingestHelpers.js';

type IngestState = NotificationMap['ingestState'];

const PASSWORD = 'Sup3rSecretCamPass';

/** Resolves to a fixed answer per name (DNS rebinding and multi-address names, without a DNS server). */
const fakeDns = (answers: Record<string, string[]>) => async (name: string) => {
	const answer = answers[name];
	if (!answer) throw new Error(`ENOTFOUND ${name}`);
	return answer;
};

describe('ingest hardening: the egress policy of pulled sources', () => {
	const refused = [
		'169.254.169.254', // cloud metadata (link-local)
		'127.0.0.1',
		'127.8.9.10',
		'0.0.0.0',
		'10.1.2.3',
		'172.16.5.5',
		'192.168.1.1',
		'100.64.0.1', // CGNAT
		'224.0.0.1', // multicast
		'255.255.255.255',
		'192.0.2.10', // documentation / reserved
		'[::1]',
		'[::]',
		'[fe80::1]',
		'[fd00::1]', // ULA
		'[fc00::1]',
		'[ff02::1]',
		'[::ffff:127.0.0.1]', // IPv4-mapped
		'[::ffff:a9fe:a9fe]', // IPv4-mapped 169.254.169.254, hex form
		'[64:ff9b::a00:1]', // NAT64 of 10.0.0.1
		'[2002:a00:1::1]', // 6to4 of 10.0.0.1
	];

	it('refuses loopback, link-local, private, CGNAT, ULA, multicast, reserved and embedded-IPv4 destinations', async () => {
		const policy = new EgressPolicy();
		for (const host of refused) {
			const error = await policy.check(host).then(() => null, (e: { code?: string }) => e);
			expect(error?.code, host).to.equal('source_forbidden');
		}
		expect(await policy.check('8.8.8.8')).to.equal('8.8.8.8');
		expect(await policy.check('[2001:4860:4860::8888]')).to.equal('2001:4860:4860::8888');
	});

	it('checks every address of a name, and names that resolve inside (localhost) are refused', async () => {
		const policy = new EgressPolicy({ resolve: fakeDns({ 'cam.example': ['93.184.216.34', '10.0.0.7'], 'public.example': ['93.184.216.34'] }) });
		expect((await policy.check('cam.example').catch((e: { code: string }) => e))).to.have.property('code', 'source_forbidden');
		expect(await policy.check('public.example')).to.equal('93.184.216.34');
		expect((await policy.check('nowhere.example').catch((e: { code: string }) => e))).to.have.property('code', 'source_unreachable');
		// The real resolver: localhost is loopback, however it is spelt.
		const system = new EgressPolicy();
		for (const name of ['localhost', 'LOCALHOST.', '2130706433', '0x7f.1']) {
			expect(((await system.check(name).catch((e: { code: string }) => e)) as { code: string }).code, name).to.equal('source_forbidden');
		}
	});

	it('lets the operator allow addresses, CIDRs, hostnames and subdomains (INGEST_ALLOWED_HOSTS)', async () => {
		const policy = new EgressPolicy({
			allowed: ['127.0.0.1', '10.20.0.0/16', 'fd00:1::/32', 'camera.or.local', '*.pacs.local'],
			resolve: fakeDns({ 'camera.or.local': ['192.168.7.7'], 'a.pacs.local': ['172.16.0.9'], 'other.local': ['192.168.7.8'] }),
		});
		expect(await policy.check('127.0.0.1')).to.equal('127.0.0.1');
		expect(await policy.check('[::ffff:127.0.0.1]')).to.equal('::ffff:7f00:1');
		expect(await policy.check('10.20.3.4')).to.equal('10.20.3.4');
		expect(await policy.check('[fd00:1::5]')).to.equal('fd00:1::5');
		expect(await policy.check('camera.or.local')).to.equal('192.168.7.7');
		expect(await policy.check('a.pacs.local')).to.equal('172.16.0.9');
		for (const host of ['127.0.0.2', '10.21.0.1', 'other.local', '169.254.169.254']) {
			expect(((await policy.check(host).catch((e: { code: string }) => e)) as { code: string }).code, host).to.equal('source_forbidden');
		}
		expect(() => new EgressPolicy({ allowed: ['not a host!'] })).to.throw(TypeError);
	});

	it('hands ffmpeg the checked address, not the name (no second lookup to rebind), and keeps credentials out of text', async () => {
		let lookups = 0;
		const policy = new EgressPolicy({
			allowed: ['cam.or.local'],
			resolve: async () => (lookups++ === 0 ? ['192.168.7.7'] : ['127.0.0.1']),
		});
		const source = parseSource(`rtsp://admin:${PASSWORD}@cam.or.local:8554/stream?channel=1`, undefined);
		expect(await resolveInput(source, policy)).to.equal(`rtsp://admin:${PASSWORD}@192.168.7.7:8554/stream?channel=1`);
		const v6 = parseSource('srt://[2001:db8:1::5]:9000?streamid=cam', undefined);
		expect(await resolveInput(v6, new EgressPolicy({ allowed: ['2001:db8::/32'] }))).to.equal('srt://[2001:db8:1::5]:9000?streamid=cam');
		// HTTP(S) keeps its URL (Host, SNI): the egress proxy checks and pins each connection.
		const web = parseSource('https://cam.example/live.m3u8', undefined);
		expect(await resolveInput(web, new EgressPolicy({ resolve: fakeDns({ 'cam.example': ['93.184.216.34'] }) }))).to.equal('https://cam.example/live.m3u8');
		expect(() => parseSource('srt://93.184.216.34:9000?mode=listener', undefined)).to.throw().with.property('code', 'invalid_payload');

		const text = `[rtsp @ 0x1] method DESCRIBE failed: 401 rtsp://admin:${PASSWORD}@192.168.7.7:8554/stream; pass ${PASSWORD}`;
		const redacted = redactSource(text, source);
		expect(redacted).not.to.include(PASSWORD);
		expect(redacted).to.include('rtsp://[redacted]@192.168.7.7');
	});
});

describe('ingest hardening: pulled sources on a running server', function () {
	this.timeout(120_000);
	let closed: TestSfu; // default policy
	let open: TestSfu; // INGEST_ALLOWED_HOSTS=127.0.0.2
	let media: string;
	let closedHost: TestClient;
	let openHost: TestClient;
	const servers: Server[] = [];
	const children: ChildProcess[] = [];
	const room = 'hardening-pull';
	let canaryHits = 0;
	let canaryPort = 0;
	let originPort = 0;
	/** The Host header of each request for the live feed (the proxy must keep it). */
	const liveHosts: string[] = [];

	const listen = async (server: Server, host: string): Promise<number> => {
		servers.push(server);
		await new Promise<void>((resolve) => server.listen(0, host, resolve));
		return (server.address() as { port: number }).port;
	};

	before(async () => {
		media = mkdtempSync(path.join(tmpdir(), 'sfu-hardening-'));
		execFileSync('ffmpeg', ['-v', 'error', '-f', 'lavfi', '-i', 'testsrc2=size=320x240:rate=15', '-t', '20', '-c:v', 'libx264', '-preset', 'ultrafast', '-g', '15', '-pix_fmt', 'yuv420p', '-f', 'mpegts', path.join(media, 'live.ts')]);
		execFileSync('ffmpeg', ['-v', 'error', '-f', 'lavfi', '-i', 'testsrc2=size=320x240:rate=15', '-t', '2', '-c:v', 'libx264', '-preset', 'ultrafast', '-g', '15', '-pix_fmt', 'yuv420p', path.join(media, 'clip.mp4')]);
		// What an attacker wants to reach: a service on loopback. It counts every request.
		canaryPort = await listen(
			createServer((_req, res) => {
				canaryHits += 1;
				res.end('secret');
			}),
			'127.0.0.1',
		);
		// A source the operator allows (127.0.0.2) that redirects, or lists segments, inside.
		const ts = readFileSync(path.join(media, 'live.ts'));
		originPort = await listen(
			createServer((req, res) => {
				if (req.url === '/redirect') {
					res.writeHead(302, { location: `http://127.0.0.1:${canaryPort}/latest/meta-data` }).end();
				} else if (req.url === '/playlist.m3u8') {
					res.writeHead(200, { 'content-type': 'application/vnd.apple.mpegurl' });
					res.end(`#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-TARGETDURATION:2\n#EXT-X-MEDIA-SEQUENCE:0\n#EXTINF:2.0,\nhttp://127.0.0.1:${canaryPort}/segment.ts\n#EXT-X-ENDLIST\n`);
				} else if (req.url === '/live.ts') {
					liveHosts.push(req.headers.host ?? '');
					// A live MPEG-TS feed, paced at about real time.
					res.writeHead(200, { 'content-type': 'video/mp2t' });
					const perTick = Math.ceil(ts.length / 20 / 10 / 188) * 188;
					let offset = 0;
					const timer = setInterval(() => {
						if (offset >= ts.length) {
							clearInterval(timer);
							res.end();
							return;
						}
						res.write(ts.subarray(offset, offset + perTick));
						offset += perTick;
					}, 100);
					res.on('close', () => clearInterval(timer));
				} else {
					res.writeHead(404).end();
				}
			}),
			'127.0.0.2',
		);
		closed = await startSfu({ ROOM_WAITING_ROOM: 'false', MAX_INGEST_SOURCES_PER_ROOM: '8' });
		open = await startSfu({ ROOM_WAITING_ROOM: 'false', MAX_INGEST_SOURCES_PER_ROOM: '8', INGEST_ALLOWED_HOSTS: '127.0.0.2' });
		closedHost = await TestClient.connect(closed.url, { token: await mintToken({ room, role: 'host' }) });
		await closedHost.ok('join', { protocolVersion: 1 });
		openHost = await TestClient.connect(open.url, { token: await mintToken({ room, role: 'host' }) });
		await openHost.ok('join', { protocolVersion: 1 });
	});

	after(async () => {
		for (const child of children) child.kill('SIGKILL');
		closedHost?.close();
		openHost?.close();
		await closed?.close();
		await open?.close();
		for (const server of servers) {
			server.closeAllConnections();
			server.close();
		}
		rmSync(media, { recursive: true, force: true });
	});

	const stateOf = (host: TestClient, sfu: TestSfu, ingestId: string, state: IngestState['state'], timeoutMs = 30_000) => waitForIngestState(host, sfu, ingestId, state, timeoutMs);

	it('refuses inside destinations by default, over signaling and REST, with a stable code and no device started', async () => {
		const metrics = new URL(closed.url);
		const urls = [
			'http://169.254.169.254/latest/meta-data/iam/security-credentials/',
			'rtsp://127.0.0.1:22/',
			`http://127.0.0.1:${metrics.port}/metrics`,
			`http://localhost:${metrics.port}/metrics`,
			'rtsp://[::1]:554/stream',
			'rtsp://[::ffff:127.0.0.1]:554/stream',
			'http://[::ffff:7f00:1]/',
			'http://0x7f.1/',
			'rtsp://2130706433:554/',
			'srt://10.1.2.3:9000',
			'https://192.168.1.10/live.m3u8',
			'http://100.64.0.1/',
			'rtsps://[fd00::1]:322/',
			'http://[fe80::1]/',
			'http://0.0.0.0:80/',
			`rtsp://admin:${PASSWORD}@127.0.0.2:8554/cam`,
		];
		for (const url of urls) {
			const result = await closedHost.request('addIngestSource', { url });
			expect(!result.ok && result.error.code, url).to.equal('source_forbidden');
			expect(!result.ok && result.error.message, url).not.to.include(PASSWORD);
		}
		const rest = await fetch(`${closed.url}/api/rooms/${room}/ingests`, {
			method: 'POST',
			headers: { authorization: `Bearer ${await mintToken({ room, role: 'host' })}`, 'content-type': 'application/json' },
			body: JSON.stringify({ url: `rtsp://admin:${PASSWORD}@169.254.169.254/` }),
		});
		expect(rest.status).to.equal(403);
		const body = (await rest.json()) as { error: { code: string; message: string } };
		expect(body.error.code).to.equal('source_forbidden');
		expect(JSON.stringify(body)).not.to.include(PASSWORD);
		expect(closed.server.ingest.list(room)).to.deep.equal([]);
		expect(closed.server.rooms.get(room)!.peers().filter((p) => p.role === 'device')).to.deep.equal([]);
		expect(JSON.stringify(closed.logs)).not.to.include(PASSWORD);
	});

	it('accepts the same source once allowlisted; an unreachable one retries with a stable code and no ffmpeg text or credentials', async () => {
		const closedPort = await freeTcpPort();
		const url = `rtsp://admin:${PASSWORD}@127.0.0.2:${closedPort}/cam`;
		expect(((await closedHost.request('addIngestSource', { url })) as { ok: boolean; error?: { code: string } }).error?.code).to.equal('source_forbidden');
		const { ingestId } = await openHost.ok('addIngestSource', { url });
		const retrying = await stateOf(openHost, open, ingestId, 'retrying');
		expect(retrying.code).to.equal('source_unreachable');
		expect(retrying.reason).to.equal('the source could not be opened');
		const listed = (await (await fetch(`${open.url}/api/rooms/${room}/ingests`, { headers: { authorization: `Bearer ${await mintToken({ room, role: 'host' })}` } })).json());
		await openHost.ok('removeIngestSource', { ingestId });
		const everything = JSON.stringify([openHost.notifications, listed, open.logs]);
		expect(everything).not.to.include(PASSWORD);
		// ffmpeg's diagnosis stays in the server log (redacted), for the operator.
		expect(open.logs.some((l) => l['msg'] === 'ingest source attempt failed' && typeof l['detail'] === 'string')).to.equal(true);
	});

	it('pulls an allowed HTTP source through the checking proxy (Host kept) and goes live', async () => {
		const { ingestId } = await openHost.ok('addIngestSource', { url: `http://127.0.0.2:${originPort}/live.ts`, name: 'HTTP camera' });
		const live = await stateOf(openHost, open, ingestId, 'live', 60_000);
		expect(live.code).to.equal(undefined);
		expect(liveHosts.length).to.be.at.least(1);
		expect(new Set(liveHosts)).to.deep.equal(new Set([`127.0.0.2:${originPort}`]));
		await openHost.ok('removeIngestSource', { ingestId });
	});

	it('stops a source whose redirect or HLS playlist points inside, without the inside ever being reached', async () => {
		for (const file of ['redirect', 'playlist.m3u8']) {
			const { ingestId } = await openHost.ok('addIngestSource', { url: `http://127.0.0.2:${originPort}/${file}` });
			const failed = await stateOf(openHost, open, ingestId, 'failed');
			expect(failed.code, file).to.equal('source_forbidden');
			await openHost.ok('removeIngestSource', { ingestId });
		}
		expect(canaryHits).to.equal(0);
	});

	it('survives an ffmpeg that cannot be started (no binary, not executable): retries with ingest_failed', async () => {
		const notExecutable = path.join(media, 'ffmpeg-not-executable');
		writeFileSync(notExecutable, '#!/bin/sh\nexit 0\n');
		chmodSync(notExecutable, 0o644);
		const sfuRoom = open.server.rooms.get(room)!;
		for (const ffmpeg of [path.join(media, 'no-such-ffmpeg'), notExecutable]) {
			const id = `spawn-${path.basename(ffmpeg)}`;
			const { peer } = await sfuRoom.join({ sub: `ingest:${id}`, role: 'device', displayName: 'Spawn test' }, NO_CHANNEL, {});
			const ingest = new PullIngest({
				id,
				name: 'Spawn test',
				source: parseSource(path.join(media, 'clip.mp4'), media),
				peer,
				ffmpeg,
				ffprobe: 'ffprobe',
				policy: new EgressPolicy(),
				retryDelayMs: 200,
				logger: pino({ level: 'silent' }),
			});
			const states: PullIngestStatus[] = [];
			ingest.on('state', (status) => states.push(status));
			try {
				ingest.start();
				await waitFor(() => states.filter((s) => s.state === 'retrying').length >= 2, 30_000, `${path.basename(ffmpeg)}: two failed starts`);
				expect(states.find((s) => s.state === 'retrying')?.code).to.equal('ingest_failed');
			} finally {
				ingest.close();
				sfuRoom.remove(peer, 'left');
			}
		}
		// Still serving.
		expect(((await (await fetch(`${open.url}/healthz`)).json()) as { status: string }).status).to.equal('ok');
	});
});

describe('ingest hardening: push endpoints cannot be taken over', function () {
	this.timeout(120_000);
	let sfu: TestSfu;
	const clients: TestClient[] = [];
	const sockets: UdpSocket[] = [];
	let encoder: ChildProcess | null = null;

	before(async () => {
		sfu = await startSfu({ ROOM_WAITING_ROOM: 'false' });
	});
	after(async () => {
		encoder?.kill('SIGKILL');
		for (const socket of sockets) socket.close();
		for (const client of clients) client.close();
		await sfu?.close();
	});

	const device = async (room: string) => {
		const client = await TestClient.connect(sfu.url, { token: await mintToken({ room, role: 'device' }) });
		clients.push(client);
		await client.ok('join', { protocolVersion: 1 });
		return client;
	};
	const udp = async (address: string, port = 0) => {
		const socket = createSocket('udp4');
		sockets.push(socket);
		await new Promise<void>((resolve) => socket.bind(port, address, resolve));
		return socket;
	};
	const rtp = (pt: number, ssrc: number, seq: number) => rtpPacket(pt, ssrc, seq);
	/** Well-formed RTP with the endpoint's own payload type and SSRC (a sender that read the answer, or guessed right). */
	const sendAs = async (socket: UdpSocket, stream: IngestEndpointInfo['streams'][number], count: number, from = 0) => {
		for (let i = 0; i < count; i++) await new Promise<void>((resolve) => socket.send(rtp(stream.payloadType, stream.ssrc, from + i), stream.port, stream.ip, () => resolve()));
	};
	const deviceBytes = async (room: string) => {
		const peer = sfu.server.rooms.get(room)!.peers().find((p) => p.role === 'device')!;
		let bytes = 0;
		for (const producer of peer.media.producers.values()) for (const stat of await producer.getStats()) bytes += stat.byteCount;
		return bytes;
	};
	const settle = () => new Promise((resolve) => setTimeout(resolve, 1500));

	it('encrypts by default: a sender without the key is never heard, the keyed encoder (ffmpeg SRTP) is', async () => {
		const room = 'push-srtp';
		const client = await device(room);
		const endpoint = await client.ok('createIngest', {});
		expect(endpoint.srtp?.keyBase64).to.be.a('string');
		// Random, and below 2³¹: ffmpeg's -ssrc refuses larger values.
		expect(endpoint.streams[0]!.ssrc).to.be.within(1, 0x7fff_ffff);
		expect(endpoint.sdp).to.include('RTP/SAVP').and.include('a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:');
		const video = endpoint.streams[0]!;
		const stray = await udp('127.0.0.1');
		await sendAs(stray, video, 300);
		await settle();
		expect(await deviceBytes(room)).to.equal(0);
		const stream = sfu.server.rooms.get(room)!.peers().find((p) => p.role === 'device')!.media.ingestOf(video.producerId)!;
		expect(stream.senderKnown, 'the stray sender did not become the stream’s sender').to.equal(false);

		encoder = spawn('ffmpeg', pushCommand(endpoint, { width: 320, height: 240, fps: 15, bitrate: '300k' }), { stdio: 'ignore' });
		await waitFor(async () => (await deviceBytes(room)) > 20_000, 30_000, 'SRTP media from ffmpeg');
		// The stray keeps sending: it still is not the sender.
		const sender = stream.transport.tuple.remotePort;
		await sendAs(stray, video, 200, 1000);
		await settle();
		expect(stream.transport.tuple.remotePort).to.equal(sender);
		encoder.kill('SIGKILL');
		encoder = null;
	});

	it('a pinned ip:port hears only that sender', async () => {
		const room = 'push-pinned-port';
		const client = await device(room);
		const legit = await udp('127.0.0.1');
		const { port } = legit.address();
		const endpoint = await client.ok('createIngest', { srtp: false, sourceAddress: `127.0.0.1:${port}` });
		expect(endpoint.sourceAddress).to.equal(`127.0.0.1:${port}`);
		expect(endpoint.srtp).to.equal(undefined);
		const video = endpoint.streams[0]!;
		const stray = await udp('127.0.0.1');
		await sendAs(stray, video, 300);
		await settle();
		expect(await deviceBytes(room)).to.equal(0);
		await sendAs(legit, video, 100);
		await waitFor(async () => (await deviceBytes(room)) > 10_000, 10_000, 'media from the pinned sender');
	});

	it('a pinned IP throws a sender from another address off, and then hears the pinned one', async () => {
		const room = 'push-pinned-ip';
		const client = await device(room);
		const endpoint = await client.ok('createIngest', { srtp: false, sourceAddress: '127.0.0.2' });
		const video = endpoint.streams[0]!;
		const peer = sfu.server.rooms.get(room)!.peers().find((p) => p.role === 'device')!;
		const stray = await udp('127.0.0.1');
		await sendAs(stray, video, 50);
		await waitFor(() => !peer.media.producers.has(video.producerId), 10_000, 'the stray-locked stream reopened');
		const legit = await udp('127.0.0.2');
		await waitFor(
			async () => {
				await sendAs(legit, video, 20);
				const current = [...peer.media.producers.values()].find((p) => p.kind === 'video');
				const stream = current && peer.media.ingestOf(current.id);
				return stream?.senderKnown && stream.transport.tuple.remoteIp === '127.0.0.2' && (await deviceBytes(room)) > 0;
			},
			15_000,
			'the pinned IP heard',
		);
	});

	it('refuses a malformed sourceAddress', async () => {
		const client = await device('push-bad-source');
		for (const sourceAddress of ['example.org', '127.0.0.1:0', '127.0.0.1:70000', '1.2.3', '[::1]:65535']) {
			const result = await client.request('createIngest', { srtp: false, sourceAddress });
			expect(!result.ok && result.error.code, sourceAddress).to.equal('invalid_payload');
		}
	});
});
