import { expect } from 'chai';
import { joinWithMedia, opusParameters } from '../support/media.js';
import { mintToken, startSfu, TestClient, type TestSfu } from '../support/sfu.js';
import type { Role } from '../../server/protocol/index.js';

describe('signaling: roles, waiting room and host actions', () => {
	let sfu: TestSfu;
	const clients: TestClient[] = [];
	let roomSeq = 0;
	let room: string;

	const connect = async (role: Role, extra: Record<string, unknown> = {}): Promise<TestClient> => {
		const client = await TestClient.connect(sfu.url, { token: await mintToken({ room, role, ...extra }) });
		clients.push(client);
		return client;
	};

	before(async () => {
		sfu = await startSfu({ EMPTY_ROOM_TIMEOUT_MS: '100' });
	});
	after(() => sfu.close());
	beforeEach(() => {
		room = `roles-${++roomSeq}`;
	});
	afterEach(() => {
		for (const client of clients.splice(0)) client.close();
	});

	it('lets an observer consume but not publish', async () => {
		const host = await connect('host');
		const { producers } = await joinWithMedia(host, { produce: ['audio'] });
		const observer = await connect('observer');
		const { send } = await joinWithMedia(observer);
		const produce = await observer.request('produce', { transportId: send.id, kind: 'audio', rtpParameters: opusParameters(), source: 'microphone' });
		expect(!produce.ok && produce.error.code).to.equal('forbidden');
		const consumed = await observer.ok('consume', { producerId: producers['audio']! });
		expect(consumed.kind).to.equal('audio');
		expect(consumed.source).to.equal('microphone');
	});

	it('lets a device publish only its device stream, and not consume', async () => {
		const host = await connect('host');
		const { producers } = await joinWithMedia(host, { produce: ['audio'] });
		const device = await connect('device');
		const { send } = await joinWithMedia(device);
		const camera = await device.request('produce', { transportId: send.id, kind: 'audio', rtpParameters: opusParameters(), source: 'microphone' });
		expect(!camera.ok && camera.error.code).to.equal('forbidden');
		expect((await device.request('produce', { transportId: send.id, kind: 'audio', rtpParameters: opusParameters(), source: 'device' })).ok).to.equal(true);
		const consume = await device.request('consume', { producerId: producers['audio']! });
		expect(!consume.ok && consume.error.code).to.equal('forbidden');
	});

	it('keeps patients in the waiting room until the host admits them', async () => {
		const host = await connect('host');
		await joinWithMedia(host);
		const patient = await connect('patient');
		const waiting = await patient.ok('join', { protocolVersion: 1 });
		expect(waiting.waiting).to.equal(true);
		const blocked = await patient.request('createTransport', { direction: 'send' });
		expect(!blocked.ok && blocked.error.code).to.equal('waiting_for_admission');
		const list = await host.waitForNotification('waitingRoom', (d) => d.peers.length === 1);
		expect(list.peers[0]).to.deep.include({ id: waiting.peerId, role: 'patient' });

		const clinician = await connect('clinician');
		await clinician.ok('join', { protocolVersion: 1 });
		const notHost = await clinician.request('admit', { peerId: waiting.peerId });
		expect(!notHost.ok && notHost.error.code).to.equal('forbidden');

		await host.ok('admit', { peerId: waiting.peerId });
		await patient.waitForNotification('admitted');
		await host.waitForNotification('waitingRoom', (d) => d.peers.length === 0);
		const joined = await patient.ok('join', { protocolVersion: 1 });
		expect(joined.waiting).to.equal(false);
		expect(joined.peerId).to.equal(waiting.peerId);
		await host.waitForNotification('peerJoined', (d) => d.peer.id === waiting.peerId && d.peer.role === 'patient');
	});

	it('lets an admitted patient back in without waiting after a long drop; a removed one may not come back while the room lasts', async () => {
		const host = await connect('host');
		await joinWithMedia(host);
		const patient = await connect('patient', { sub: 'returning-patient' });
		const first = await patient.ok('join', { protocolVersion: 1 });
		await host.ok('admit', { peerId: first.peerId });
		await patient.waitForNotification('admitted');
		const joined = await patient.ok('join', { protocolVersion: 1 });
		expect(joined.waiting).to.equal(false);
		await patient.ok('leave', {});
		const back = await connect('patient', { sub: 'returning-patient' });
		expect((await back.ok('join', { protocolVersion: 1 })).waiting).to.equal(false);
		await host.ok('removePeer', { peerId: (await host.waitForNotification('peerJoined', (d) => d.peer.role === 'patient' && d.peer.id !== first.peerId)).peer.id });
		const again = await connect('patient', { sub: 'returning-patient' });
		const refused = await again.request('join', { protocolVersion: 1 });
		expect(!refused.ok && refused.error.code).to.equal('removed');
	});

	it('a removed clinician, observer or device may not rejoin with the same token either', async () => {
		const host = await connect('host', { waitingRoom: false });
		await joinWithMedia(host);
		for (const role of ['clinician', 'observer', 'device'] as const) {
			const sub = `removed-${role}`;
			const member = await connect(role, { sub });
			const { peerId } = await member.ok('join', { protocolVersion: 1 });
			await host.ok('removePeer', { peerId });
			await member.waitForNotification('kicked', (d) => d.reason === 'removed');
			const back = await connect(role, { sub });
			const refused = await back.request('join', { protocolVersion: 1 });
			expect(!refused.ok && refused.error.code, role).to.equal('removed');
		}
	});

	it('lets the host deny a waiting patient, who is then disconnected', async () => {
		const host = await connect('host');
		await joinWithMedia(host);
		const patient = await connect('patient');
		const waiting = await patient.ok('join', { protocolVersion: 1 });
		const disconnected = new Promise((resolve) => patient.socket.once('disconnect', resolve));
		await host.ok('deny', { peerId: waiting.peerId });
		await patient.waitForNotification('denied');
		await disconnected;
	});

	it('admits patients directly when the host token disables the waiting room', async () => {
		const host = await connect('host', { waitingRoom: false });
		await host.ok('join', { protocolVersion: 1 });
		const patient = await connect('patient');
		expect((await patient.ok('join', { protocolVersion: 1 })).waiting).to.equal(false);
	});

	it('lets only the host mute, remove and end', async () => {
		const host = await connect('host');
		await joinWithMedia(host);
		const clinician = await connect('clinician');
		const { join, producers } = await joinWithMedia(clinician, { produce: ['audio'] });
		const other = await connect('clinician');
		await joinWithMedia(other);

		for (const [method, payload] of [
			['mutePeer', { peerId: join.peerId }],
			['removePeer', { peerId: join.peerId }],
			['endRoom', {}],
		] as const) {
			const result = await other.raw(method, payload);
			expect(!result.ok && result.error.code, method).to.equal('forbidden');
		}

		const muted = await host.ok('mutePeer', { peerId: join.peerId });
		expect(muted.producerIds).to.deep.equal([producers['audio']]);
		await clinician.waitForNotification('mutedByHost', (d) => d.producerId === producers['audio'] && d.source === 'microphone');
		await other.waitForNotification('producerPaused', (d) => d.producerId === producers['audio']);

		const kicked = new Promise((resolve) => clinician.socket.once('disconnect', resolve));
		await host.ok('removePeer', { peerId: join.peerId });
		await clinician.waitForNotification('kicked', (d) => d.reason === 'removed');
		await kicked;
		await other.waitForNotification('peerLeft', (d) => d.peerId === join.peerId && d.reason === 'removed');

		await host.ok('endRoom', {});
		await other.waitForNotification('roomClosed', (d) => d.reason === 'ended_by_host');
		expect(sfu.server.rooms.get(room)).to.equal(undefined);
	});
});
