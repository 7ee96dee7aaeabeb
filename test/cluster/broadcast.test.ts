import { expect } from 'chai';
import { launchBrowser, type TestBrowser } from '../support/browser.js';
import { openDemo, waitForMediaFrom, type DemoParticipant } from '../support/demoPage.js';
import { waitFor } from '../support/processes.js';
import { TestRedis } from '../support/redis.js';
import { startServer, type ServerProcess } from '../support/serverProcess.js';
import { mintToken } from '../support/sfu.js';
import { TcpProxy } from '../support/tcpProxy.js';

interface NodeView {
	id: string;
	load: { peers: number; pipesIn: number; pipesOut: number };
}

describe('cluster: a grand round across three nodes in Chromium', function () {
	this.timeout(180_000);
	let redis: TestRedis;
	let proxy: TcpProxy;
	let browser: TestBrowser;
	const nodes: ServerProcess[] = [];
	const room = 'grand-round';
	let admin: string;

	const nodeEnv = (id: string, rtcMin: number) => ({
		NODE_ID: id,
		REDIS_URL: redis.url,
		CLUSTER_SECRET: 'cluster-secret-0123456789',
		CLUSTER_HEARTBEAT_MS: '500',
		MEDIASOUP_NUM_WORKERS: '1',
		RTC_MIN_PORT: String(rtcMin),
		RTC_MAX_PORT: String(rtcMin + 999),
		ROOM_WAITING_ROOM: 'false',
		LOG_LEVEL: 'info',
	});
	const view = async (via: ServerProcess): Promise<NodeView[]> => {
		const response = await fetch(`${via.baseUrl}/api/cluster/nodes`, { headers: { authorization: `Bearer ${admin}` } });
		return ((await response.json()) as { nodes: NodeView[] }).nodes;
	};

	before(async () => {
		redis = await TestRedis.start();
		admin = await mintToken({ room: 'any', role: 'admin' as 'host' });
		nodes.push(await startServer(nodeEnv('node-a', 40000)), await startServer(nodeEnv('node-b', 41000)), await startServer(nodeEnv('node-c', 42000)));
		proxy = await TcpProxy.start(nodes.map((n) => n.port));
		browser = await launchBrowser();
	});

	after(async () => {
		await browser?.close();
		await proxy?.close();
		for (const node of nodes) await node.stop('SIGKILL');
		await redis?.close();
	});

	let presenter: DemoParticipant;
	let viewerB: DemoParticipant;
	let viewerC: DemoParticipant;

	it('a presenter on node A reaches viewers on nodes B and C, piping only what they consume', async () => {
		const [a, b, c] = nodes as [ServerProcess, ServerProcess, ServerProcess];
		// Through the load balancer, which sends it to node A.
		presenter = await openDemo(browser, proxy.url, room, 'host', { sub: 'presenter' });
		viewerB = await openDemo(browser, b.baseUrl, room, 'observer');
		viewerC = await openDemo(browser, c.baseUrl, room, 'observer');
		await waitForMediaFrom(viewerB, presenter, 30_000);
		await waitForMediaFrom(viewerC, presenter, 30_000);
		// The cluster view is each node's last heartbeat (every 500 ms here): wait for the records
		// written after the pipes opened rather than read one that may predate them.
		const settled = (load: NodeView['load'] | undefined, pipesIn: number, pipesOut: number): boolean => load?.pipesIn === pipesIn && load.pipesOut === pipesOut;
		const loads = await waitFor(
			async () => {
				const byNode = Object.fromEntries((await view(a)).map((n) => [n.id, n.load]));
				return settled(byNode['node-a'], 0, 4) && settled(byNode['node-b'], 2, 0) && settled(byNode['node-c'], 2, 0) ? byNode : null;
			},
			5000,
			'the pipes in the nodes’ records',
		).catch(async () => Object.fromEntries((await view(a)).map((n) => [n.id, n.load])));
		// Camera + microphone piped once to each viewer node; nothing piped back.
		expect(loads['node-a']).to.deep.include({ pipesOut: 4, pipesIn: 0, peers: 1 });
		expect(loads['node-b']).to.deep.include({ pipesIn: 2, pipesOut: 0, peers: 1 });
		expect(loads['node-c']).to.deep.include({ pipesIn: 2, pipesOut: 0, peers: 1 });
	});

	it('survives the death of the presenter’s node: media is back on both viewer nodes within 10 s', async () => {
		const [a, b] = nodes as [ServerProcess, ServerProcess, ServerProcess];
		const killedAt = Date.now();
		await a.stop('SIGKILL');
		// The presenter's page reconnects through the load balancer to a live node and republishes.
		const newPresenterId = await waitFor(
			async () => {
				const id = await presenter.page.evaluate(() => (globalThis as unknown as { demo: { room: { localParticipant: { id: string } }; state: string } }).demo.room.localParticipant.id);
				return id && id !== presenter.peerId ? id : null;
			},
			15_000,
			'the presenter to rejoin on another node',
		).catch(async (error: Error) => {
			const seen = await presenter.page.evaluate(() => JSON.stringify({ state: (globalThis as unknown as { demo: { state: string; error: unknown; log: unknown[] } }).demo.state, error: (globalThis as unknown as { demo: { error: unknown } }).demo.error, log: (globalThis as unknown as { demo: { log: unknown[] } }).demo.log.slice(-10) }));
			throw new Error(`${error.message}: ${seen}; node b logs: ${JSON.stringify(b.logs.filter((l) => l.level >= 40).slice(-5))}`);
		});
		const moved = { ...presenter, peerId: newPresenterId };
		await waitForMediaFrom(viewerB, moved, 15_000);
		await waitForMediaFrom(viewerC, moved, 15_000);
		const seconds = (Date.now() - killedAt) / 1000;
		expect(seconds).to.be.below(10);
		// Node A's record expires with its heartbeat TTL (3 × 500 ms).
		await waitFor(async () => (await view(b)).map((n) => n.id).sort().join() === 'node-b,node-c', 5000, 'node-a to leave the cluster view');
	});
});
