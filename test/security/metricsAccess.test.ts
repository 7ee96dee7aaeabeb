import { expect } from 'chai';
import { freePort } from '../support/prometheus.js';
import { mintToken, startSfu, type TestSfu } from '../support/sfu.js';

const METRICS_TOKEN = 'prometheus-scrape-token-0123456789';

async function scrape(url: string, token?: string): Promise<{ status: number; text: string }> {
	const response = await fetch(url, token ? { headers: { authorization: `Bearer ${token}` } } : {});
	return { status: response.status, text: await response.text() };
}

describe('security: who may read /metrics', function () {
	this.timeout(60_000);

	describe('on the public HTTP port', () => {
		let sfu: TestSfu;
		before(async () => {
			sfu = await startSfu({ METRICS_TOKEN });
		});
		after(async () => sfu?.close());

		it('answers 401 without a token, with a wrong one and with a participant’s join token', async () => {
			const anonymous = await scrape(`${sfu.url}/metrics`);
			expect(anonymous.status).to.equal(401);
			expect(anonymous.text).to.not.include('sfu_');
			expect((JSON.parse(anonymous.text) as { error: { code: string } }).error.code).to.equal('unauthorized');
			expect((await scrape(`${sfu.url}/metrics`, 'prometheus-scrape-token-wrong-guess')).status).to.equal(401);
			expect((await scrape(`${sfu.url}/metrics`, await mintToken({ room: 'r', role: 'host' }))).status).to.equal(401);
		});

		it('serves METRICS_TOKEN and admin-token bearers', async () => {
			const withToken = await scrape(`${sfu.url}/metrics`, METRICS_TOKEN);
			expect(withToken.status).to.equal(200);
			expect(withToken.text).to.include('sfu_worker_up');
			expect((await scrape(`${sfu.url}/metrics`, await mintToken({ room: 'any', role: 'admin' as 'host' }))).status).to.equal(200);
		});
	});

	describe('on METRICS_PORT (loopback by default)', () => {
		let sfu: TestSfu;
		before(async () => {
			sfu = await startSfu({ METRICS_PORT: String(await freePort()) });
		});
		after(async () => sfu?.close());

		it('serves /metrics there without a token and nothing on the public port', async () => {
			const port = sfu.server.metricsPort;
			expect(port).to.be.a('number');
			const admin = await scrape(`http://127.0.0.1:${port}/metrics`);
			expect(admin.status).to.equal(200);
			expect(admin.text).to.include('sfu_worker_up');
			expect((await scrape(`${sfu.url}/metrics`)).status).to.equal(404);
			expect((await scrape(`${sfu.url}/metrics`, await mintToken({ room: 'any', role: 'admin' as 'host' }))).status).to.equal(404);
		});
	});
});
