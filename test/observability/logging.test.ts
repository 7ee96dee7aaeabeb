import { expect } from 'chai';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { loadConfig } from '../../server/config/index.js';
import { withRequestId } from '../../server/context/index.js';
import { configureLogging, createRootLogger, levelFor, moduleLogger, roomRef } from '../../server/logger/index.js';
import { SfuServer } from '../../server/SfuServer.js';
import { waitFor } from '../support/processes.js';
import { TEST_JWT_SECRET } from '../support/serverProcess.js';
import { mintToken, TestClient } from '../support/sfu.js';

type Line = Record<string, unknown>;

function capture(): { lines: Line[]; stream: Writable; text: () => string } {
	const lines: Line[] = [];
	let text = '';
	const stream = new Writable({
		write(chunk: Buffer, _encoding, done) {
			text += chunk.toString('utf8');
			for (const line of chunk.toString('utf8').split('\n')) if (line) lines.push(JSON.parse(line) as Line);
			done();
		},
	});
	return { lines, stream, text: () => text };
}

describe('observability: logs', function () {
	this.timeout(60_000);

	it('levels per module: the longest configured prefix wins, else the root level', () => {
		const settings = { level: 'info' as const, levels: { rooms: 'debug' as const, media: 'warn' as const, 'media.worker-pool': 'error' as const } };
		expect(levelFor('rooms', settings)).to.equal('debug');
		expect(levelFor('media.router', settings)).to.equal('warn');
		expect(levelFor('media.worker-pool', settings)).to.equal('error');
		expect(levelFor('roomsx', settings)).to.equal('info');
		expect(levelFor('signaling', settings)).to.equal('info');

		const sink = capture();
		const root = createRootLogger({ level: 'info', destination: sink.stream });
		configureLogging(root, settings);
		moduleLogger(root, 'rooms').debug('rooms debug');
		moduleLogger(root, 'media.worker-pool').warn('pool warn');
		moduleLogger(root, 'media.worker-pool').error('pool error');
		moduleLogger(root, 'signaling').debug('signaling debug');
		moduleLogger(root, 'signaling').info('signaling info');
		expect(sink.lines.map((l) => l['msg'])).to.deep.equal(['rooms debug', 'pool error', 'signaling info']);
	});

	it('redacts tokens, authorization, names and claims, also in module loggers and one level deeper', () => {
		const sink = capture();
		const root = createRootLogger({ level: 'info', destination: sink.stream });
		const logger = moduleLogger(root, 'signaling').child({ socketId: 's1' });
		logger.info(
			{
				token: 'eyJ.secret.token',
				auth: { token: 'eyJ.handshake.token' },
				claims: { sub: 'u1', name: 'Nguyễn Văn A', room: 'r' },
				displayName: 'Dr. Trần Thị B',
				peer: { displayName: 'Lê Văn C' },
				req: { headers: { authorization: 'Bearer eyJ.rest.token', cookie: 'sid=1' } },
				err: { data: { token: 'eyJ.nested.token' } },
			},
			'something happened',
		);
		const text = sink.text();
		for (const secret of ['eyJ.secret.token', 'eyJ.handshake.token', 'Nguyễn Văn A', 'Trần Thị B', 'Lê Văn C', 'eyJ.rest.token', 'sid=1', 'eyJ.nested.token']) {
			expect(text).to.not.include(secret);
		}
		expect(text).to.include('[redacted]');
	});

	it('room ids become opaque references (keyed with LOG_ID_KEY), request ids ride along through async work', async () => {
		const sink = capture();
		const root = createRootLogger({ level: 'info', destination: sink.stream });
		configureLogging(root, { level: 'info', idKey: 'deployment-key-1' });
		const rooms = moduleLogger(root, 'rooms');
		await withRequestId(async () => {
			await new Promise((resolve) => setTimeout(resolve, 5));
			rooms.child({ roomId: 'ward-7-bed-3' }).info('peer joined');
		}, 'req-1');
		const [line] = sink.lines;
		expect(line!['roomId']).to.equal(roomRef('ward-7-bed-3', 'deployment-key-1'));
		expect(line!['roomId']).to.not.equal(roomRef('ward-7-bed-3'));
		expect(line!['reqId']).to.equal('req-1');
		expect(sink.text()).to.not.include('ward-7-bed-3');
	});

	describe('a running node', () => {
		let server: SfuServer;
		let dataDir: string;
		let url: string;
		const sink = capture();
		const room = 'ward-7-bed-3-ct-scan';
		const name = 'Phạm Thị Dung';

		before(async () => {
			dataDir = mkdtempSync(path.join(tmpdir(), 'sfu-logs-'));
			const config = loadConfig({
				DATA_DIR: dataDir,
				PORT: '0',
				HTTP_HOST: '127.0.0.1',
				JWT_SECRET: TEST_JWT_SECRET,
				WEBRTC_PORT: '0',
				MEDIASOUP_NUM_WORKERS: '1',
				LOG_LEVEL: 'debug',
				LOG_LEVELS: 'http=warn,media=info',
			});
			// Exactly as main.ts builds it.
			server = await SfuServer.start(config, createRootLogger({ level: config.log.level, destination: sink.stream }));
			url = `http://127.0.0.1:${server.port}`;
		});

		after(async () => {
			await server?.close();
			rmSync(dataDir, { recursive: true, force: true });
		});

		it('never writes the token, the display name or the room id; each request has an id shared by the lines it causes', async () => {
			const token = await mintToken({ room, role: 'host', name, sub: 'portal-user-42' });
			const client = await TestClient.connect(url, { token });
			const joined = await client.ok('join', { protocolVersion: 1 });
			await client.request('consume', { producerId: 'no-such-producer' });
			await fetch(`${url}/metrics`);
			client.close();
			await TestClient.connect(url, { token: `${token}x` }).catch(() => undefined);
			await waitFor(() => sink.lines.some((l) => l['msg'] === 'connection refused'), 5000, 'the refusal logged');

			const text = sink.text();
			expect(text).to.not.include(token.split('.')[2]!);
			expect(text).to.not.include(name);
			expect(text).to.not.include(room);
			const ref = roomRef(room);
			expect(sink.lines.filter((l) => l['roomId'] !== undefined).every((l) => l['roomId'] === ref)).to.equal(true);

			// The join request: its answer line and the room's "peer joined" line share one request id.
			const answer = sink.lines.find((l) => l['msg'] === 'request answered' && l['method'] === 'join');
			expect(answer?.['reqId']).to.be.a('string');
			const peerJoined = sink.lines.find((l) => l['msg'] === 'peer joined');
			expect(peerJoined?.['module']).to.equal('rooms');
			expect(peerJoined?.['reqId']).to.equal(answer!['reqId']);
			expect(peerJoined?.['peerId']).to.equal(joined.peerId);
			const failed = sink.lines.find((l) => l['msg'] === 'request answered' && l['method'] === 'consume');
			expect(failed?.['code']).to.equal('not_found');
			expect(failed?.['reqId']).to.not.equal(answer!['reqId']);
		});

		it('honours LOG_LEVELS: http at warn drops its debug lines, media at info drops debug, the rest stays at debug', () => {
			expect(sink.lines.filter((l) => l['module'] === 'http' && (l['level'] as number) < 40)).to.deep.equal([]);
			expect(sink.lines.filter((l) => String(l['module']).startsWith('media') && (l['level'] as number) < 30)).to.deep.equal([]);
			expect(sink.lines.some((l) => l['module'] === 'signaling' && l['level'] === 20)).to.equal(true);
		});
	});
});
