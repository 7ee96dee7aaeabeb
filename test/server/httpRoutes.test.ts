import { expect } from 'chai';
import { startSfu, type TestSfu } from '../support/sfu.js';

describe('server: demo page, SDK bundles and dev tokens', () => {
	describe('in demo mode', () => {
		let sfu: TestSfu;
		before(async () => {
			sfu = await startSfu({ DEMO: '1' });
		});
		after(() => sfu.close());

		it('serves the demo page and the SDK bundles', async () => {
			const page = await fetch(`${sfu.url}/demo/`);
			expect(page.status).to.equal(200);
			expect(page.headers.get('content-type')).to.match(/text\/html/);
			expect(await page.text()).to.include('/sdk/telehealth-sdk.iife.js');
			const bundle = await fetch(`${sfu.url}/sdk/telehealth-sdk.iife.js`);
			expect(bundle.status).to.equal(200);
			expect((await bundle.text()).length).to.be.greaterThan(10_000);
			expect((await fetch(`${sfu.url}/`, { redirect: 'manual' })).headers.get('location')).to.equal('/demo/');
		});

		it('mints dev tokens the server accepts, for the room and role asked', async () => {
			const response = await fetch(`${sfu.url}/api/dev/token?room=demo-room&role=host&name=Dr%20Demo`);
			expect(response.status).to.equal(200);
			expect(response.headers.get('cache-control')).to.equal('no-store');
			const { token } = (await response.json()) as { token: string };
			const claims = await sfu.server.verifier.verify(token, 'demo-room');
			expect(claims).to.deep.include({ room: 'demo-room', role: 'host', name: 'Dr Demo' });
			expect(claims.sub).to.match(/^demo-/);
		});

		it('refuses a bad dev-token query with a stable code', async () => {
			for (const query of ['', 'room=a%2Fb', 'room=ok&role=admin', `room=ok&name=${'x'.repeat(100)}`, 'room=ok&extra=1']) {
				const response = await fetch(`${sfu.url}/api/dev/token?${query}`);
				expect(response.status, query).to.equal(400);
				expect(((await response.json()) as { error: { code: string } }).error.code).to.equal('invalid_request');
			}
		});

		it('does not serve files outside the demo folder', async () => {
			for (const path of ['/demo/../package.json', '/demo/%2e%2e/package.json', '/sdk/..%2f..%2fpackage.json']) {
				const response = await fetch(`${sfu.url}${path}`);
				expect(response.status, path).to.be.oneOf([400, 403, 404]);
				expect(await response.text()).to.not.include('"devDependencies"');
			}
		});
	});

	describe('without demo mode', () => {
		let sfu: TestSfu;
		before(async () => {
			sfu = await startSfu();
		});
		after(() => sfu.close());

		it('offers no dev tokens', async () => {
			const response = await fetch(`${sfu.url}/api/dev/token?room=x&role=host`);
			expect(response.status).to.equal(404);
			expect(((await response.json()) as { error: { code: string } }).error.code).to.equal('not_found');
		});

		it('tells pages where signaling lives', async () => {
			expect(await (await fetch(`${sfu.url}/api/client-config`)).json()).to.deep.equal({ protocolVersion: 1, signalingPort: null });
		});
	});
});
