import { expect } from 'chai';
import { setTimeout as sleep } from 'node:timers/promises';
import { joinWithMedia } from '../support/media.js';
import { waitFor } from '../support/processes.js';
import { mintToken, startSfu, TestClient, type TestSfu } from '../support/sfu.js';

const ZERO = { rooms: 0, peers: 0, waiting: 0, routers: 0, transports: 0, producers: 0, consumers: 0 };

function idle(sfu: TestSfu) {
	const { connections: _connections, ...counts } = sfu.server.counts();
	const pool = sfu.server.pool.counts();
	return JSON.stringify(counts) === JSON.stringify(ZERO) && pool.routers === 0 && pool.transports === 0 && pool.producers === 0 && pool.consumers === 0;
}

describe('signaling: lifecycle and resource accounting', () => {
	let sfu: TestSfu;
	const clients: TestClient[] = [];
	before(async () => {
		sfu = await startSfu({ PEER_GRACE_PERIOD_MS: '600', EMPTY_ROOM_TIMEOUT_MS: '200', MEDIASOUP_NUM_WORKERS: '2' });
	});
	after(() => sfu.close());
	afterEach(async () => {
		for (const client of clients.splice(0)) client.close();
		await waitFor(() => idle(sfu), 5000, 'the server to return to idle');
	});

	const connect = async (room: string, sub?: string, reconnection = false): Promise<TestClient> => {
		const client = await TestClient.connect(sfu.url, { token: await mintToken({ room, role: 'clinician', ...(sub ? { sub } : {}) }) }, { reconnection });
		clients.push(client);
		return client;
	};

	it('consumes each other and returns every count to zero after leave', async () => {
		const a = await connect('life-leave');
		const b = await connect('life-leave');
		const pa = await joinWithMedia(a, { produce: ['audio', 'video'] });
		const pb = await joinWithMedia(b, { produce: ['audio', 'video'] });
		expect(pb.join.waiting === false && pb.join.peers.map((p) => p.id)).to.deep.equal([pa.join.peerId]);
		await a.waitForNotification('producerNew', (d) => d.producer.id === pb.producers['video']);
		const video = await a.ok('consume', { producerId: pb.producers['video']! });
		expect(video.type).to.equal('simulcast');
		await a.ok('resumeConsumer', { consumerId: video.id });
		await a.ok('setConsumerPreferredLayers', { consumerId: video.id, spatialLayer: 0 });
		await a.ok('setConsumerPriority', { consumerId: video.id, priority: 10 });
		await b.ok('consume', { producerId: pa.producers['audio']! });
		const again = await b.request('consume', { producerId: pa.producers['audio']! });
		expect(!again.ok && again.error.code).to.equal('invalid_state');
		expect(sfu.server.counts()).to.deep.include({ rooms: 1, peers: 2, transports: 4, producers: 4, consumers: 2 });

		await b.ok('closeProducer', { producerId: pb.producers['video']! });
		await a.waitForNotification('consumerClosed', (d) => d.consumerId === video.id);
		await a.waitForNotification('producerClosed', (d) => d.producerId === pb.producers['video']);

		await b.ok('leave', {});
		await a.waitForNotification('peerLeft', (d) => d.peerId === pb.join.peerId && d.reason === 'left');
		expect(sfu.server.counts()).to.deep.include({ peers: 1, transports: 2, producers: 2, consumers: 0 });
		await a.ok('leave', {});
	});

	it('keeps a dropped peer for the grace period, then removes it', async () => {
		const a = await connect('life-grace');
		const b = await connect('life-grace');
		await joinWithMedia(a, { produce: ['audio'] });
		const pb = await joinWithMedia(b, { produce: ['audio'] });
		b.close();
		await sleep(200);
		expect(sfu.server.counts()).to.deep.include({ peers: 2, producers: 2 });
		expect(a.notifications.some((n) => n.name === 'peerLeft')).to.equal(false);
		await a.waitForNotification('peerLeft', (d) => d.peerId === pb.join.peerId && d.reason === 'disconnected', 3000);
		expect(sfu.server.counts()).to.deep.include({ peers: 1, producers: 1 });
	});

	it('resumes a peer that reconnects with the same token inside the grace period', async () => {
		const a = await connect('life-resume');
		const b = await connect('life-resume', 'resuming-user');
		await joinWithMedia(a, { produce: ['audio'] });
		const pb = await joinWithMedia(b, { produce: ['audio', 'video'] });
		b.close();
		await sleep(100);
		const b2 = await connect('life-resume', 'resuming-user');
		const resumed = await b2.ok('join', { protocolVersion: 1, resume: { transportIds: [pb.send.id] } });
		expect(resumed.waiting === false && resumed.resumed).to.equal(true);
		expect(resumed.peerId).to.equal(pb.join.peerId);
		expect(resumed.waiting === false && resumed.producers.map((p) => p.id).sort()).to.deep.equal(Object.values(pb.producers).sort());
		// The receive transport was not listed: it is closed, the send one kept.
		expect(sfu.server.counts()).to.deep.include({ peers: 2, transports: 3, producers: 3 });
		const ice = await b2.ok('restartIce', { transportId: pb.send.id });
		expect(ice.iceParameters.usernameFragment).to.not.equal(pb.send.iceParameters.usernameFragment);
		await sleep(800);
		expect(a.notifications.some((n) => n.name === 'peerLeft')).to.equal(false);
	});

	it('hands a peer over when the same user joins from a second connection', async () => {
		const first = await connect('life-takeover', 'two-tabs');
		const p1 = await joinWithMedia(first, { produce: ['audio'] });
		const gone = new Promise((resolve) => first.socket.once('disconnect', resolve));
		const second = await connect('life-takeover', 'two-tabs');
		const join = await second.ok('join', { protocolVersion: 1 });
		await gone;
		expect(join.peerId).to.equal(p1.join.peerId);
		expect(sfu.server.counts()).to.deep.include({ peers: 1, transports: 0, producers: 0 });
	});

	it('closes an empty room after its timeout', async () => {
		const a = await connect('life-empty');
		await joinWithMedia(a, { produce: ['audio'] });
		await a.ok('leave', {});
		expect(sfu.server.rooms.get('life-empty')).to.not.equal(undefined);
		await waitFor(() => sfu.server.rooms.get('life-empty') === undefined, 2000, 'the empty room to close');
	});
});

describe('signaling: a room spread over workers', () => {
	let sfu: TestSfu;
	const clients: TestClient[] = [];
	before(async () => {
		sfu = await startSfu({ MEDIASOUP_NUM_WORKERS: '2', ROUTER_CONSUMER_BUDGET: '2', EMPTY_ROOM_TIMEOUT_MS: '100' });
	});
	after(() => sfu.close());
	afterEach(() => {
		for (const client of clients.splice(0)) client.close();
	});

	it('puts a new peer on a second worker when the first router is over budget, piping producers both ways', async () => {
		const connect = async () => {
			const client = await TestClient.connect(sfu.url, { token: await mintToken({ room: 'spread', role: 'clinician' }) });
			clients.push(client);
			return client;
		};
		const a = await connect();
		const b = await connect();
		const pa = await joinWithMedia(a, { produce: ['audio', 'video'] });
		const pb = await joinWithMedia(b, { produce: ['audio', 'video'] });
		await a.ok('consume', { producerId: pb.producers['video']! });
		await b.ok('consume', { producerId: pa.producers['video']! });
		const c = await connect();
		const pc = await joinWithMedia(c, { produce: ['video'] });
		const room = sfu.server.rooms.get('spread')!;
		expect(room.media.routers).to.have.length(2);
		expect(new Set(room.media.routers.map((r) => r.worker.pid)).size).to.equal(2);
		// C (second worker) consumes A's producer, piped from the first worker; A consumes C's.
		const fromA = await c.ok('consume', { producerId: pa.producers['video']! });
		expect(fromA.type).to.equal('simulcast');
		expect((await a.ok('consume', { producerId: pc.producers['video']! })).producerId).to.equal(pc.producers['video']);
		expect(room.media.routers[1]!.counts.consumers).to.be.greaterThan(0);
	});
});
