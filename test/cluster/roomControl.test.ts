import { expect } from 'chai';
import { Redis } from 'ioredis';
import { setTimeout as sleep } from 'node:timers/promises';
import { signRequest } from '../../server/cluster/index.js';
import { joinWithMedia } from '../support/media.js';
import { waitFor } from '../support/processes.js';
import { TestRedis } from '../support/redis.js';
import { startServer, type ServerProcess } from '../support/serverProcess.js';
import { mintToken, TestClient, type TokenClaims } from '../support/sfu.js';

const SECRET = 'cluster-secret-0123456789';

/**
 * One room, two nodes, a real Redis, people on different nodes, protocol v1
 * exactly as documented: every host action and room-wide notice reaches the
 * node of the person it concerns.
 */
describe('cluster: one room across nodes (waiting room, moderation, recording notice, ending, draining)', function () {
	this.timeout(120_000);
	let redis: TestRedis;
	let inspect: Redis;
	let a: ServerProcess;
	let b: ServerProcess;
	const extra: ServerProcess[] = [];
	const clients: TestClient[] = [];

	const nodeEnv = (id: string): Record<string, string> => ({
		NODE_ID: id,
		REDIS_URL: redis.url,
		CLUSTER_SECRET: SECRET,
		CLUSTER_HEARTBEAT_MS: '500',
		MEDIASOUP_NUM_WORKERS: '1',
		LOG_LEVEL: 'info',
		PEER_GRACE_PERIOD_MS: '2000',
		DRAIN_TIMEOUT_MS: '5000',
	});
	const connect = async (node: ServerProcess, claims: TokenClaims): Promise<TestClient> => {
		const client = await TestClient.connect(node.baseUrl, { token: await mintToken(claims) });
		clients.push(client);
		return client;
	};
	const roomKeys = async (room: string): Promise<string[]> => (await inspect.keys(`sfu:room:${room}*`)).sort();

	before(async () => {
		redis = await TestRedis.start();
		inspect = new Redis(redis.url);
		[a, b] = await Promise.all([startServer(nodeEnv('node-a'), 30_000), startServer(nodeEnv('node-b'), 30_000)]);
		await waitFor(async () => (await inspect.keys('sfu:node:node-?')).length === 2, 10_000, 'both nodes registered');
	});

	after(async () => {
		for (const client of clients) client.close();
		await Promise.all([a, b, ...extra].map((node) => node?.stop('SIGKILL')));
		inspect?.disconnect();
		await redis?.close();
	});

	it('a patient waiting on node B is listed to the host on node A, admitted from A, and not parked again through A', async () => {
		const room = 'consult-waiting';
		const host = await connect(a, { room, role: 'host', sub: 'dr-a' });
		const hostJoin = await host.ok('join', { protocolVersion: 1 });
		const patient = await connect(b, { room, role: 'patient', sub: 'patient-b', name: 'Patient B' });
		const waiting = await patient.ok('join', { protocolVersion: 1 });
		expect(waiting.waiting).to.equal(true);
		const listed = await host.waitForNotification('waitingRoom', (d) => d.peers.some((p) => p.id === waiting.peerId));
		expect(listed.peers.find((p) => p.id === waiting.peerId)).to.deep.equal({ id: waiting.peerId, role: 'patient', displayName: 'Patient B' });

		// The answer comes once node B has admitted the patient.
		await host.ok('admit', { peerId: waiting.peerId });
		expect(patient.notifications.some((n) => n.name === 'admitted')).to.equal(true);
		await host.waitForNotification('waitingRoom', (d) => d.peers.length === 0);
		const joined = await patient.ok('join', { protocolVersion: 1 });
		expect(joined.waiting).to.equal(false);
		await host.waitForNotification('peerJoined', (d) => d.peer.id === joined.peerId);
		expect(joined.waiting === false && joined.peers.map((p) => p.id)).to.include(hostJoin.peerId);

		// Back through the other node (a network switch, a new tab): admitted already.
		patient.close();
		const again = await connect(a, { room, role: 'patient', sub: 'patient-b', name: 'Patient B' });
		const rejoined = await again.ok('join', { protocolVersion: 1 });
		expect(rejoined.waiting).to.equal(false);
		// One person, one presence: node B lets the older connection go.
		await host.waitForNotification('peerLeft', (d) => d.peerId === joined.peerId);
	});

	it('a host on A denies a patient waiting on B, mutes a clinician on B, and removes a patient on B who cannot slip back in through A', async () => {
		const room = 'consult-moderated';
		const host = await connect(a, { room, role: 'host', sub: 'dr-host' });
		const { join: hostJoin } = await joinWithMedia(host);
		const knocking = await connect(b, { room, role: 'patient', sub: 'stranger' });
		const knock = await knocking.ok('join', { protocolVersion: 1 });
		await host.waitForNotification('waitingRoom', (d) => d.peers.some((p) => p.id === knock.peerId));
		await host.ok('deny', { peerId: knock.peerId });
		await knocking.waitForNotification('denied');
		await host.waitForNotification('waitingRoom', (d) => !d.peers.some((p) => p.id === knock.peerId));

		const clinician = await connect(b, { room, role: 'clinician', sub: 'dr-b' });
		const { join: clinicianJoin, producers } = await joinWithMedia(clinician, { produce: ['audio', 'video'] });
		await host.waitForNotification('producerNew', (d) => d.producer.id === producers['audio']);
		const muted = await host.ok('mutePeer', { peerId: clinicianJoin.peerId });
		expect(muted.producerIds).to.deep.equal([producers['audio']]);
		// Node B acted before the answer: the clinician was told at once.
		await clinician.waitForNotification('mutedByHost', (d) => d.producerId === producers['audio'] && d.source === 'microphone', 1000);
		await host.waitForNotification('producerPaused', (d) => d.producerId === producers['audio']);

		const patient = await connect(b, { room, role: 'patient', sub: 'patient-removed' });
		const parked = await patient.ok('join', { protocolVersion: 1 });
		await host.waitForNotification('waitingRoom', (d) => d.peers.some((p) => p.id === parked.peerId));
		await host.ok('admit', { peerId: parked.peerId });
		const inside = await patient.ok('join', { protocolVersion: 1 });
		await host.waitForNotification('peerJoined', (d) => d.peer.id === inside.peerId);
		await host.ok('removePeer', { peerId: inside.peerId });
		await patient.waitForNotification('kicked', (d) => d.reason === 'removed', 1000);
		await host.waitForNotification('peerLeft', (d) => d.peerId === inside.peerId && d.reason === 'removed');
		await clinician.waitForNotification('peerLeft', (d) => d.peerId === inside.peerId && d.reason === 'removed');
		for (const node of [a, b]) {
			const back = await connect(node, { room, role: 'patient', sub: 'patient-removed' });
			const refused = await back.request('join', { protocolVersion: 1 });
			expect(!refused.ok && refused.error.code).to.equal('removed');
		}
		// Both trails record the removal: node A's (where the host acted, naming the node that
		// carried it out) and node B's (where it was carried out, on the host's behalf).
		const admin = await mintToken({ room: 'any', role: 'admin' as 'host' });
		const kicks = async (node: ServerProcess) => {
			const response = await fetch(`${node.baseUrl}/api/audit?room=${room}&type=peer.kicked`, { headers: { authorization: `Bearer ${admin}` } });
			return ((await response.json()) as { entries: { actor: { sub: string } | null; target?: { sub: string }; data?: Record<string, unknown> }[] }).entries;
		};
		const [onA, onB] = [await kicks(a), await kicks(b)];
		expect(onA.map((e) => [e.actor?.sub, e.target?.sub, e.data?.['executedOn']])).to.deep.equal([['dr-host', 'patient-removed', 'node-b']]);
		expect(onB.map((e) => [e.actor?.sub, e.target?.sub])).to.deep.equal([['dr-host', 'patient-removed']]);
		// An action on someone who is not there answers with a code, never a silent success.
		const gone = await host.request('mutePeer', { peerId: '00000000-0000-0000-0000-000000000000' });
		expect(!gone.ok && gone.error.code).to.equal('not_found');
		expect(hostJoin.waiting).to.equal(false);
	});

	it('a recording started on A is announced to B, B’s consent and stop reach A, and the end of the room reaches every node and leaves nothing in Redis', async () => {
		const room = 'consult-recorded';
		const host = await connect(a, { room, role: 'host', sub: 'dr-rec', waitingRoom: false });
		await joinWithMedia(host, { produce: ['audio'] });
		const remote = await connect(b, { room, role: 'clinician', sub: 'dr-remote' });
		const { join: remoteJoin, producers } = await joinWithMedia(remote, { produce: ['audio'] });
		await host.waitForNotification('producerNew', (d) => d.producer.id === producers['audio']);

		const { recordingId } = await host.ok('startRecording', { requireConsent: true });
		const notice = await remote.waitForNotification('recordingState', (d) => d.recordingId === recordingId && d.active);
		expect(notice.consentRequired).to.equal(true);
		expect(notice.recordedPeerIds).to.not.include(remoteJoin.peerId);

		await remote.ok('setRecordingConsent', { consent: true });
		await remote.waitForNotification('recordingState', (d) => d.recordingId === recordingId && d.recordedPeerIds.includes(remoteJoin.peerId), 10_000);
		// A late joiner on B is shown the running recording.
		const late = await connect(b, { room, role: 'observer', sub: 'late-viewer' });
		await late.ok('join', { protocolVersion: 1 });
		await late.waitForNotification('recordingState', (d) => d.recordingId === recordingId && d.active);

		// A host on the other node cannot start a second recording of the room, and stops this one: the recording node acts.
		const cohost = await connect(b, { room, role: 'host', sub: 'dr-cohost' });
		await cohost.ok('join', { protocolVersion: 1 });
		const second = await cohost.request('startRecording', {});
		expect(!second.ok && second.error.code).to.equal('invalid_state');
		expect((await cohost.ok('stopRecording', {})).recordingId).to.equal(recordingId);
		await remote.waitForNotification('recordingState', (d) => d.recordingId === recordingId && !d.active);
		// (What lands in the files, with real media from two nodes: test/cluster/consult.test.ts.)

		await host.ok('endRoom', {});
		for (const client of [remote, late, cohost]) await client.waitForNotification('roomClosed', (d) => d.reason === 'ended_by_host');
		await waitFor(async () => (await roomKeys(room)).length === 0, 10_000, `no Redis key of the room left (have ${(await roomKeys(room)).join(', ')})`);
	});

	it('a node-to-node pipe call cannot be replayed, and an unsigned one is refused', async () => {
		const body = JSON.stringify({ roomId: 'nowhere', producerId: 'p', ip: '127.0.0.1', port: 40000 });
		const headers = { 'content-type': 'text/plain', ...signRequest(SECRET, 'node-a', 'POST', '/internal/pipes', body) };
		const first = await fetch(`${b.baseUrl}/internal/pipes`, { method: 'POST', headers, body });
		expect(first.status).to.equal(404);
		const replayed = await fetch(`${b.baseUrl}/internal/pipes`, { method: 'POST', headers, body });
		expect(replayed.status).to.equal(401);
		const unsigned = await fetch(`${b.baseUrl}/internal/pipes`, { method: 'POST', headers: { 'content-type': 'text/plain' }, body });
		expect(unsigned.status).to.equal(401);
	});

	it('SIGTERM to a node moves its clients (told to reconnect), continues its recording on another node, and leaves the other nodes’ participants connected; the node exits', async () => {
		const room = 'consult-draining';
		const c = await startServer(nodeEnv('node-c'), 30_000);
		extra.push(c);
		const host = await connect(a, { room, role: 'host', sub: 'dr-stays', waitingRoom: false });
		await host.ok('join', { protocolVersion: 1 });
		const onC = await connect(c, { room, role: 'host', sub: 'dr-moves' });
		const moving = await onC.ok('join', { protocolVersion: 1 });
		await host.waitForNotification('peerJoined', (d) => d.peer.id === moving.peerId);
		// Node C records the room.
		const { recordingId } = await onC.ok('startRecording', {});
		await host.waitForNotification('recordingState', (d) => d.recordingId === recordingId && d.active);
		let hostDisconnected = false;
		host.socket.on('disconnect', () => (hostDisconnected = true));

		const exit = c.stop('SIGTERM', 20_000);
		await onC.waitForNotification('serverDraining', () => true, 3000);
		const ready = await fetch(`${c.baseUrl}/readyz`).catch(() => null);
		if (ready) expect(ready.status).to.equal(503);
		// New sessions go elsewhere: the draining node refuses them with a code the SDK retries on.
		const refused = await TestClient.connect(c.baseUrl, { token: await mintToken({ room, role: 'observer' }) }).then(
			(client) => {
				clients.push(client);
				return null;
			},
			(error: { data?: { code?: string } }) => error.data?.code ?? 'connection_refused',
		);
		expect(refused === 'unavailable' || refused === 'connection_refused').to.equal(true);
		// The recording moved: sealed on C, continued on A (the other node hosting the room).
		await host.waitForNotification('recordingState', (d) => d.recordingId === recordingId && !d.active && d.error?.code === 'recording_moved');
		const continued = await host.waitForNotification('recordingState', (d) => d.active && d.recordingId !== recordingId);
		const admin = await mintToken({ room: 'any', role: 'admin' as 'host' });
		const manifest = (await (await fetch(`${a.baseUrl}/api/recordings/${continued.recordingId}`, { headers: { authorization: `Bearer ${admin}` } })).json()) as { manifest: { continuesFrom?: string } };
		expect(manifest.manifest.continuesFrom).to.equal(recordingId);
		onC.close();
		expect(await exit).to.equal(0);
		await host.waitForNotification('peerLeft', (d) => d.peerId === moving.peerId, 5000);
		await sleep(500);
		expect(hostDisconnected).to.equal(false);
		expect(host.socket.connected).to.equal(true);
		expect((await host.request('createTransport', { direction: 'recv' })).ok).to.equal(true);
	});
});
