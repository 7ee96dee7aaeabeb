import { expect } from 'chai';
import { setTimeout as sleep } from 'node:timers/promises';
import { isAlive, waitFor } from '../support/processes.js';
import { TestRedis } from '../support/redis.js';
import { startServer, type ServerProcess } from '../support/serverProcess.js';
import { joinWithMedia } from '../support/media.js';
import { mintToken, TestClient } from '../support/sfu.js';

interface NodesAnswer {
	mode: string;
	self: string;
	redisRoundTripMs: number | null;
	nodes: { id: string; publicUrl: string; ready: boolean; load: { peers: number; rooms: number; pipesIn: number; pipesOut: number } }[];
}

describe('cluster: nodes and rooms over a real Redis', function () {
	this.timeout(120_000);
	let redis: TestRedis;
	const nodes: ServerProcess[] = [];
	const clients: TestClient[] = [];
	let admin: string;

	const nodeEnv = (id: string) => ({ NODE_ID: id, REDIS_URL: redis.url, CLUSTER_SECRET: 'cluster-secret-0123456789', CLUSTER_HEARTBEAT_MS: '300', MEDIASOUP_NUM_WORKERS: '1', LOG_LEVEL: 'info' });
	const clusterView = async (node: ServerProcess): Promise<NodesAnswer> => {
		const response = await fetch(`${node.baseUrl}/api/cluster/nodes`, { headers: { authorization: `Bearer ${admin}` } });
		// While Redis is down the node answers 503 unavailable: no nodes known.
		return response.ok ? ((await response.json()) as NodesAnswer) : { mode: 'redis', self: '', redisRoundTripMs: null, nodes: [] };
	};
	const join = async (node: ServerProcess, room: string) => {
		const client = await TestClient.connect(node.baseUrl, { token: await mintToken({ room, role: 'clinician' }) });
		clients.push(client);
		return { client, result: await client.request('join', { protocolVersion: 1 }) };
	};

	before(async () => {
		redis = await TestRedis.start();
		admin = await mintToken({ room: 'any', role: 'admin' as 'host' });
		nodes.push(await startServer(nodeEnv('node-a')), await startServer(nodeEnv('node-b')));
	});

	after(async () => {
		for (const client of clients) client.close();
		for (const node of nodes) await node.stop('SIGKILL');
		await redis?.close();
	});

	it('registers every node with its load, and refuses the node list to non-admins', async () => {
		const [a, b] = nodes as [ServerProcess, ServerProcess];
		const view = await waitFor(async () => {
			const answer = await clusterView(a);
			return answer.nodes.length === 2 ? answer : null;
		}, 10_000, 'both nodes registered');
		expect(view.mode).to.equal('redis');
		expect(view.self).to.equal('node-a');
		expect(view.nodes.map((n) => n.id).sort()).to.deep.equal(['node-a', 'node-b']);
		expect(view.nodes.find((n) => n.id === 'node-b')!.publicUrl).to.equal(b.baseUrl);
		expect(view.redisRoundTripMs).to.be.a('number');
		const refused = await fetch(`${a.baseUrl}/api/cluster/nodes`, { headers: { authorization: `Bearer ${await mintToken({ room: 'x', role: 'host' })}` } });
		expect(refused.status).to.equal(403);
	});

	it('lets a room span nodes: participants on different nodes see each other', async () => {
		const [a, b] = nodes as [ServerProcess, ServerProcess];
		const first = await join(a, 'ward-7');
		expect(first.result.ok).to.equal(true);
		const second = await join(b, 'ward-7');
		expect(second.result.ok).to.equal(true);
		const firstId = first.result.ok ? first.result.data.peerId : '';
		const secondId = second.result.ok ? second.result.data.peerId : '';
		await first.client.waitForNotification('peerJoined', (d) => d.peer.id === secondId);
		const third = await join(b, 'ward-7');
		expect(third.result.ok && third.result.data.waiting === false && third.result.data.peers.map((p) => p.id).sort()).to.deep.equal([firstId, secondId].sort());
		await third.client.request('leave', {});
	});

	it('forgets a killed node after its heartbeat TTL and lets another node take its rooms', async () => {
		const a = nodes[0]!;
		const b = nodes[1]!;
		const pid = a.proc.pid!;
		await a.stop('SIGKILL');
		expect(isAlive(pid)).to.equal(false);
		await waitFor(async () => (await clusterView(b)).nodes.every((n) => n.id !== 'node-a'), 5000, 'node-a to expire');
		// Node A's participant disappears from node B's view of the room.
		const onB = clients[1]!;
		await onB.waitForNotification('peerLeft', (d) => d.reason === 'disconnected', 10_000);
		const moved = await join(b, 'ward-7');
		expect(moved.result.ok).to.equal(true);
		expect(moved.result.ok && moved.result.data.waiting === false && moved.result.data.peers.length).to.equal(1);
	});

	it('survives a Redis restart: calls go on, new rooms wait for Redis with a clear error, then recover', async () => {
		const b = nodes[1]!;
		const inCall = await join(b, 'ward-9');
		expect(inCall.result.ok).to.equal(true);
		const metric = async (name: string) => {
			const text = await (await fetch(`${b.baseUrl}/metrics`, { headers: { authorization: `Bearer ${admin}` } })).text();
			return Number(new RegExp(`^${name} (\\S+)$`, 'm').exec(text)?.[1]);
		};
		expect(await metric('sfu_cluster_redis_up')).to.equal(1);
		expect(await metric('sfu_cluster_nodes')).to.be.at.least(1);
		await redis.stop();
		await sleep(800);
		expect(await metric('sfu_cluster_redis_up')).to.equal(0);
		// The existing call keeps working, and someone of it coming back (a network blip) gets in.
		expect((await inCall.client.request('createTransport', { direction: 'recv' })).ok).to.equal(true);
		const colleague = await TestClient.connect(b.baseUrl, { token: await mintToken({ room: 'ward-9', role: 'clinician', sub: 'blip' }) });
		clients.push(colleague);
		expect((await colleague.request('join', { protocolVersion: 1 })).ok).to.equal(true);
		colleague.close();
		const back = await TestClient.connect(b.baseUrl, { token: await mintToken({ room: 'ward-9', role: 'clinician', sub: 'blip' }) });
		clients.push(back);
		expect((await back.request('join', { protocolVersion: 1 })).ok).to.equal(true);
		// A new room needs the cluster state: refused, clearly.
		const refused = await join(b, 'ward-10');
		expect(!refused.result.ok && refused.result.error.code).to.equal('unavailable');
		expect(!refused.result.ok && refused.result.error.message).to.match(/cluster state/);
		expect(b.logs.some((line) => line.msg === 'cluster state (Redis) unreachable' && line.level === 50)).to.equal(true);

		await redis.restart();
		await waitFor(async () => (await clusterView(b)).nodes.some((n) => n.id === 'node-b'), 10_000, 'node-b to re-register');
		expect((await join(b, 'ward-10')).result.ok).to.equal(true);
	});

	it('agrees on the room policy across nodes: a broadcast opened on one node is a broadcast on the others', async () => {
		const [, b] = nodes as [ServerProcess, ServerProcess];
		const c = await startServer(nodeEnv('node-c'));
		nodes.push(c);
		const presenter = await TestClient.connect(b.baseUrl, { token: await mintToken({ room: 'rounds', role: 'host', roomType: 'broadcast' }) });
		clients.push(presenter);
		const opened = await presenter.ok('join', { protocolVersion: 1 });
		expect(opened.room.type).to.equal('broadcast');
		const viewer = await TestClient.connect(c.baseUrl, { token: await mintToken({ room: 'rounds', role: 'observer' }) });
		clients.push(viewer);
		const watching = await viewer.ok('join', { protocolVersion: 1 });
		expect(watching.room.type).to.equal('broadcast');
		expect(watching.waiting === false && watching.peers.map((p) => p.id)).to.deep.equal([opened.peerId]);
	});

	it('pipes a producer of another node only while it is consumed, and turns /readyz false over capacity', async () => {
		const b = nodes[1]!;
		const d = await startServer({ ...nodeEnv('node-d'), CLUSTER_PIPE_LINGER_MS: '300', NODE_MAX_PEERS: '1' });
		nodes.push(d);
		const presenter = await TestClient.connect(b.baseUrl, { token: await mintToken({ room: 'piped', role: 'host' }) });
		clients.push(presenter);
		const { producers } = await joinWithMedia(presenter, { produce: ['audio', 'video'] });
		const viewer = await TestClient.connect(d.baseUrl, { token: await mintToken({ room: 'piped', role: 'observer' }) });
		clients.push(viewer);
		const { join } = await joinWithMedia(viewer);
		expect(join.waiting === false && join.peers[0]!.producers.length).to.equal(2);
		const load = async (id: string) => (await clusterView(b)).nodes.find((n) => n.id === id)!.load;
		expect((await load('node-d')).pipesIn).to.equal(0);
		const consumer = await viewer.ok('consume', { producerId: producers['video']! });
		await waitFor(async () => (await load('node-d')).pipesIn === 1 && (await load('node-b')).pipesOut === 1, 5000, 'one pipe for the consumed producer');
		await viewer.ok('closeConsumer', { consumerId: consumer.id });
		await waitFor(async () => (await load('node-d')).pipesIn === 0 && (await load('node-b')).pipesOut === 0, 5000, 'the unused pipe to close');
		// One peer is node D's capacity: it stops taking new sessions.
		const ready = await fetch(`${d.baseUrl}/readyz`);
		expect(ready.status).to.equal(503);
		expect(((await ready.json()) as { reasons: string[] }).reasons).to.include('over_capacity');
		expect((await clusterView(b)).nodes.find((n) => n.id === 'node-d')!.ready).to.equal(false);
	});

	it('in redirect mode, keeps a room on its origin node and sends other joins there', async () => {
		const r1 = await startServer({ ...nodeEnv('node-r1'), CLUSTER_ROOM_MODE: 'redirect' });
		const r2 = await startServer({ ...nodeEnv('node-r2'), CLUSTER_ROOM_MODE: 'redirect' });
		nodes.push(r1, r2);
		expect((await join(r1, 'ward-r')).result.ok).to.equal(true);
		const elsewhere = await join(r2, 'ward-r');
		expect(!elsewhere.result.ok && elsewhere.result.error.code).to.equal('room_elsewhere');
		expect(!elsewhere.result.ok && elsewhere.result.error.redirectUrl).to.equal(r1.baseUrl);
	});
});
