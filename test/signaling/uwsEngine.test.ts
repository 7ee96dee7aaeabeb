import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import { joinWithMedia } from '../support/media.js';
import { mintToken, startSfu, TestClient, type TestSfu } from '../support/sfu.js';

describe('signaling: the uWebSockets.js engine', () => {
	let sfu: TestSfu;
	before(async () => {
		sfu = await startSfu({ SIGNALING_ENGINE: 'uws', UWS_PORT: '0' });
	});
	after(() => sfu.close());

	it('loads the native uWS binary, not the pure-JS fallback', () => {
		const maps = readFileSync('/proc/self/maps', 'utf8');
		expect(maps).to.match(new RegExp(`uws_${process.platform}_${process.arch}_${process.versions.modules}\\.node`));
	});

	it('serves Socket.IO on its own port, where a client joins and sets up media', async () => {
		const port = sfu.server.signalingPort;
		expect(port).to.be.a('number').and.greaterThan(0);
		const config = (await (await fetch(`${sfu.url}/api/client-config`)).json()) as { signalingPort: number };
		expect(config.signalingPort).to.equal(port);
		const client = await TestClient.connect(`http://127.0.0.1:${port}`, { token: await mintToken({ room: 'uws', role: 'clinician' }) });
		try {
			const { producers } = await joinWithMedia(client, { produce: ['audio'] });
			expect(producers['audio']).to.be.a('string');
			expect(sfu.server.counts()).to.deep.include({ peers: 1, producers: 1, connections: 1 });
		} finally {
			client.close();
		}
		// The HTTP port no longer answers Socket.IO.
		expect((await fetch(`${sfu.url}/socket.io/?EIO=4&transport=polling`)).status).to.equal(404);
	});
});
