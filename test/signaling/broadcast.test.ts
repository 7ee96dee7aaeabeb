import { expect } from 'chai';
import { joinWithMedia } from '../support/media.js';
import { mintToken, startSfu, TestClient, type TestSfu } from '../support/sfu.js';

describe('signaling: broadcast rooms (grand rounds)', function () {
	this.timeout(60_000);
	let sfu: TestSfu;
	const clients: TestClient[] = [];
	before(async () => {
		sfu = await startSfu({ SIGNALING_REQUESTS_PER_SECOND: '1000' });
	});
	after(async () => {
		for (const client of clients) client.close();
		await sfu.close();
	});

	it('announces presenters but not viewers: presenters get one batched audience count', async () => {
		const room = 'grand-round-1';
		const presenter = await TestClient.connect(sfu.url, { token: await mintToken({ room, role: 'host', roomType: 'broadcast' }) });
		clients.push(presenter);
		const { join, producers } = await joinWithMedia(presenter, { produce: ['audio', 'video'] });
		expect(join.waiting === false && join.room.type).to.equal('broadcast');
		const viewers: TestClient[] = [];
		for (let i = 0; i < 25; i++) {
			const viewer = await TestClient.connect(sfu.url, { token: await mintToken({ room, role: 'observer' }) });
			clients.push(viewer);
			viewers.push(viewer);
			const answer = await viewer.ok('join', { protocolVersion: 1 });
			// Each viewer sees the presenter (and its producers), never the other viewers.
			expect(answer.waiting === false && answer.peers.map((p) => p.id)).to.deep.equal([join.peerId]);
			expect(answer.waiting === false && answer.peers[0]!.producers.map((p) => p.id).sort()).to.deep.equal(Object.values(producers).sort());
		}
		const audience = await presenter.waitForNotification('audience', (d) => d.viewers === 25, 10_000);
		expect(audience.viewers).to.equal(25);
		expect(presenter.notifications.filter((n) => n.name === 'peerJoined')).to.have.length(0);
		expect(presenter.notifications.filter((n) => n.name === 'audience').length).to.be.at.most(4);
		for (const viewer of viewers) expect(viewer.notifications.filter((n) => n.name === 'peerJoined')).to.have.length(0);
		// A viewer may only watch.
		const send = await viewers[0]!.ok('createTransport', { direction: 'send' });
		expect(send.id).to.be.a('string');
		const produce = await viewers[0]!.request('produce', { transportId: send.id, kind: 'audio', rtpParameters: { codecs: [{ mimeType: 'audio/opus', payloadType: 111, clockRate: 48000, channels: 2 }], encodings: [{ ssrc: 1 }] }, source: 'microphone' });
		expect(!produce.ok && produce.error.code).to.equal('forbidden');
	});
});
