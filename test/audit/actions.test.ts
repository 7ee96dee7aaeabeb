import { expect } from 'chai';
import type { AuditEntry, AuditPage } from '../../server/audit/index.js';
import { waitFor } from '../support/processes.js';
import { mintToken, startSfu, TestClient, type TestSfu } from '../support/sfu.js';

/** Moderation, forbidden requests, REST-started recordings and devices: who did what to whom. */
describe('audit: moderation, refusals and admin actions', function () {
	this.timeout(60_000);
	let sfu: TestSfu;
	let admin: string;
	const clients: TestClient[] = [];

	const connect = async (room: string, role: 'host' | 'patient' | 'device' | 'clinician', sub: string, extra: Record<string, unknown> = {}): Promise<TestClient> => {
		const client = await TestClient.connect(sfu.url, { token: await mintToken({ room, role, sub, ...extra }) });
		clients.push(client);
		return client;
	};
	const trail = async (query: string): Promise<AuditEntry[]> => {
		await sfu.server.audit!.log!.flush();
		const response = await fetch(`${sfu.url}/api/audit?${query}`, { headers: { authorization: `Bearer ${admin}` } });
		expect(response.status).to.equal(200);
		return ((await response.json()) as AuditPage).entries;
	};
	const brief = (entries: AuditEntry[]) => entries.map((e) => [e.type, e.actor?.sub ?? null, e.target?.sub ?? null]);

	before(async () => {
		sfu = await startSfu({ PEER_GRACE_PERIOD_MS: '0' });
		admin = await mintToken({ room: 'any', role: 'admin' as 'host', sub: 'admin-9' });
	});
	after(async () => {
		for (const client of clients) client.close();
		await sfu?.close();
	});

	it('a kick, a denial and the host ending the room: actor and target by sub, everyone still inside leaves with the room', async () => {
		const room = 'moderated';
		const host = await connect(room, 'host', 'h1');
		await host.ok('join', { protocolVersion: 1 });
		const turnedAway = await connect(room, 'patient', 'p-denied');
		expect((await turnedAway.ok('join', { protocolVersion: 1 })).waiting).to.equal(true);
		const kicked = await connect(room, 'patient', 'p-kicked');
		const stays = await connect(room, 'clinician', 'c-stays');
		await stays.ok('join', { protocolVersion: 1 });
		const kickedId = (await kicked.ok('join', { protocolVersion: 1 })).peerId;
		const waiting = await host.waitForNotification('waitingRoom', (d) => d.peers.length === 2);
		await host.ok('deny', { peerId: waiting.peers.find((p) => p.id !== kickedId)!.id });
		await host.ok('admit', { peerId: kickedId });
		await kicked.ok('join', { protocolVersion: 1 });
		await host.ok('removePeer', { peerId: kickedId });
		await host.ok('endRoom', {});
		await waitFor(() => !sfu.server.rooms.get(room), 5000, 'the room closed');

		expect(brief(await trail(`room=${room}`))).to.deep.equal([
			['peer.joined', 'h1', null],
			['peer.waiting', 'p-denied', null],
			['peer.joined', 'c-stays', null],
			['peer.waiting', 'p-kicked', null],
			['peer.denied', 'h1', 'p-denied'],
			['peer.admitted', 'h1', 'p-kicked'],
			['peer.joined', 'p-kicked', null],
			['peer.kicked', 'h1', 'p-kicked'],
			['peer.left', 'p-kicked', null],
			['room.ended', 'h1', null],
			['peer.left', 'h1', null],
			['peer.left', 'c-stays', null],
		]);
		const left = (await trail(`room=${room}&type=peer.left`)).map((e) => e.data);
		expect(left).to.deep.equal([{ reason: 'removed' }, { reason: 'room_closed', closeReason: 'ended_by_host' }, { reason: 'room_closed', closeReason: 'ended_by_host' }]);
	});

	it('a patient’s forbidden request is recorded with the method; a wrong-room token at the handshake too', async () => {
		const room = 'forbidden-room';
		const host = await connect(room, 'host', 'h2', { waitingRoom: false });
		await host.ok('join', { protocolVersion: 1 });
		const patient = await connect(room, 'patient', 'p2');
		await patient.ok('join', { protocolVersion: 1 });
		expect((await patient.request('startRecording', {})).ok).to.equal(false);
		expect((await patient.request('removePeer', { peerId: 'x' })).ok).to.equal(false);
		await TestClient.connect(sfu.url, { token: await mintToken({ room: 'elsewhere', role: 'patient', sub: 'p3' }), room }).then(
			() => expect.fail('a token for another room connected'),
			(error: { data?: { code?: string } }) => expect(error.data?.code).to.equal('auth_wrong_room'),
		);
		const entries = await trail(`room=${room}&type=access.forbidden`);
		expect(entries.map((e) => [e.actor?.sub, e.actor?.role, e.data!['method'], e.data!['via']])).to.deep.equal([
			['p2', 'patient', 'startRecording', 'signaling'],
			['p2', 'patient', 'removePeer', 'signaling'],
		]);
		const refused = await trail(`room=${room}&type=access.refused`);
		expect(refused.map((e) => [e.actor, e.data!['code'], typeof e.data!['address']])).to.deep.equal([[null, 'auth_wrong_room', 'string']]);
	});

	it('a recording an admin starts and stops over REST is the admin’s act; a device opening a push endpoint is recorded', async () => {
		const room = 'rest-room';
		const host = await connect(room, 'host', 'h4', { waitingRoom: false });
		await host.ok('join', { protocolVersion: 1 });
		const device = await connect(room, 'device', 'tower-3');
		await device.ok('join', { protocolVersion: 1 });
		await device.ok('createIngest', { kinds: ['video'] });
		const started = await fetch(`${sfu.url}/api/rooms/${room}/recordings`, { method: 'POST', headers: { authorization: `Bearer ${admin}`, 'content-type': 'application/json' }, body: '{}' });
		expect(started.status).to.equal(201);
		const { recordingId } = (await started.json()) as { recordingId: string };
		expect((await fetch(`${sfu.url}/api/recordings/${recordingId}/stop`, { method: 'POST', headers: { authorization: `Bearer ${admin}` } })).status).to.equal(200);
		const entries = await trail(`room=${room}`);
		expect(brief(entries)).to.deep.equal([
			['peer.joined', 'h4', null],
			['peer.joined', 'tower-3', null],
			['ingest.endpoint_opened', 'tower-3', null],
			['recording.started', 'admin-9', null],
			['recording.stopped', 'admin-9', null],
		]);
		expect(entries.at(-1)!.actor).to.deep.equal({ sub: 'admin-9', role: 'admin' });
	});
});
