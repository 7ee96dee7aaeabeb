import { expect } from 'chai';
import { roomRef } from '../../server/logger/index.js';
import { joinWithMedia } from '../support/media.js';
import { waitFor } from '../support/processes.js';
import { freePort, PROMTOOL } from '../support/prometheus.js';
import { mintToken, startSfu, TestClient, type TestSfu } from '../support/sfu.js';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { MINIMUM_RMEM_DEFAULT } from '../../server/media/index.js';

/** Scrapes as an admin: /metrics on the HTTP port needs a bearer (test/security/metricsAccess.test.ts). */
async function scrape(url: string): Promise<{ status: number; type: string | null; text: string }> {
	const response = await fetch(url, { headers: { authorization: `Bearer ${await mintToken({ room: 'any', role: 'admin' as 'host' })}` } });
	return { status: response.status, type: response.headers.get('content-type'), text: await response.text() };
}

/** The value of one series in exposition text (0 when absent). */
function sample(text: string, series: string): number {
	const line = text.split('\n').find((l) => l.startsWith(`${series} `));
	return line ? Number(line.slice(series.length + 1)) : 0;
}

describe('observability: /metrics', function () {
	this.timeout(60_000);

	describe('default settings', () => {
		let sfu: TestSfu;
		before(async () => {
			sfu = await startSfu({ METRICS_STATS_INTERVAL_MS: '200' });
		});
		after(async () => sfu?.close());

		it('serves process, worker, media, room, signaling and recording metrics on the HTTP port', async () => {
			const host = await TestClient.connect(sfu.url, { token: await mintToken({ room: 'ward-12-consult', role: 'host', sub: 'portal-user-7' }) });
			const { join } = await joinWithMedia(host, { produce: ['audio', 'video'] });
			await host.raw('produce', { nonsense: true });
			await TestClient.connect(sfu.url, { token: 'not-a-jwt' }).catch(() => undefined);
			await waitFor(async () => sample((await scrape(`${sfu.url}/metrics`)).text, 'sfu_stats_sampled_objects_total') > 0, 5000, 'a sampling pass');
			const { status, type, text } = await scrape(`${sfu.url}/metrics`);
			expect(status).to.equal(200);
			expect(type).to.match(/^text\/plain; version=0\.0\.4/);
			for (const name of ['process_cpu_seconds_total', 'nodejs_eventloop_lag_p99_seconds', 'sfu_build_info', 'sfu_worker_cpu_seconds_total', 'sfu_worker_resident_memory_bytes']) {
				expect(text).to.include(`\n${name}`);
			}
			expect(sample(text, 'sfu_rooms')).to.equal(1);
			expect(sample(text, 'sfu_peers{role="host",state="joined"}')).to.equal(1);
			expect(sample(text, 'sfu_transports{type="webrtc"}')).to.equal(2);
			expect(sample(text, 'sfu_producers{kind="video",source="camera",transport="webrtc"}')).to.equal(1);
			expect(sample(text, 'sfu_signaling_requests_total{method="join",outcome="ok"}')).to.equal(1);
			expect(sample(text, 'sfu_signaling_errors_total{code="invalid_payload"}')).to.equal(1);
			expect(sample(text, 'sfu_signaling_connections_refused_total{code="auth_invalid_token"}')).to.equal(1);
			expect(sample(text, 'sfu_signaling_ack_seconds_count{method="produce"}')).to.equal(3);
			expect(sample(text, 'sfu_signaling_notifications_total{name="waitingRoom"}')).to.be.at.least(1);
			expect(sample(text, 'sfu_recordings_active')).to.equal(0);
			expect(sample(text, 'sfu_worker_resident_memory_bytes{worker="0"}')).to.be.greaterThan(1e6);
			// No identifiers and no room label unless asked for.
			for (const secret of [join.peerId, 'ward-12-consult', 'portal-user-7', roomRef('ward-12-consult')]) expect(text).to.not.include(secret);
			expect(text).to.not.match(/[{,]room="/);
			host.close();
		});

		it('reports the UDP receive buffer every worker socket gets, warns at start when it is too small for bursts', async () => {
			const rmemDefault = Number(readFileSync('/proc/sys/net/core/rmem_default', 'utf8'));
			const { text } = await scrape(`${sfu.url}/metrics`);
			expect(sample(text, 'sfu_host_udp_rmem_default_bytes')).to.equal(rmemDefault);
			expect(text).to.match(/\nsfu_host_udp_receive_buffer_errors_total \d+/);
			const warning = sfu.logs.find((l) => l['module'] === 'media.udp' && l['level'] === 40);
			if (rmemDefault < MINIMUM_RMEM_DEFAULT) expect(warning?.['rmemDefaultBytes'], 'start-up warning').to.equal(rmemDefault);
			else expect(warning).to.equal(undefined);
		});

		it('our own metrics pass promtool check metrics (its complaints about prom-client defaults aside)', async () => {
			const { text } = await scrape(`${sfu.url}/metrics`);
			const ours = text
				.split('\n')
				.filter((line) => /^(# (HELP|TYPE) )?sfu_/.test(line))
				.join('\n');
			const result = spawnSync(PROMTOOL, ['check', 'metrics'], { input: `${ours}\n`, encoding: 'utf8' });
			expect(`${result.stdout}${result.stderr}`.trim()).to.equal('');
			expect(result.status).to.equal(0);
		});

		it('a dropped peer shows as disconnected while the grace period keeps its media', async () => {
			await waitFor(async () => sample((await scrape(`${sfu.url}/metrics`)).text, 'sfu_signaling_connections') === 0, 5000, 'no connections');
			const { text } = await scrape(`${sfu.url}/metrics`);
			expect(sample(text, 'sfu_peers{role="host",state="disconnected"}')).to.equal(1);
			expect(sample(text, 'sfu_peers{role="host",state="joined"}')).to.equal(0);
			expect(sample(text, 'sfu_transports{type="webrtc"}')).to.equal(2);
			expect(sample(text, 'sfu_signaling_disconnects_total{reason="client_namespace_disconnect"}')).to.equal(1);
		});
	});

	it('METRICS_PORT serves /metrics on a separate admin port only, closed with the node', async () => {
		const port = await freePort();
		const sfu = await startSfu({ METRICS_PORT: String(port), METRICS_HOST: '127.0.0.1' });
		try {
			const admin = await scrape(`http://127.0.0.1:${port}/metrics`);
			expect(admin.status).to.equal(200);
			expect(admin.text).to.include('sfu_build_info');
			expect((await scrape(`http://127.0.0.1:${port}/other`)).status).to.equal(404);
			expect((await scrape(`${sfu.url}/metrics`)).status).to.equal(404);
		} finally {
			await sfu.close();
		}
		await waitFor(async () => (await fetch(`http://127.0.0.1:${port}/metrics`).catch(() => null)) === null, 5000, 'the admin port closed');
	});

	it('METRICS_ENABLED=false serves no metrics', async () => {
		const sfu = await startSfu({ METRICS_ENABLED: 'false' });
		try {
			expect((await scrape(`${sfu.url}/metrics`)).status).to.equal(404);
		} finally {
			await sfu.close();
		}
	});

	it('METRICS_ROOM_LABELS=1 adds per-room series labelled with the room reference the logs use, gone when the room closes', async () => {
		const sfu = await startSfu({ METRICS_ROOM_LABELS: '1', LOG_ID_KEY: 'deployment-key-1', EMPTY_ROOM_TIMEOUT_MS: '0', PEER_GRACE_PERIOD_MS: '0' });
		try {
			const host = await TestClient.connect(sfu.url, { token: await mintToken({ room: 'ward-12-consult', role: 'host' }) });
			await joinWithMedia(host, { produce: ['audio'] });
			const ref = roomRef('ward-12-consult', 'deployment-key-1');
			let { text } = await scrape(`${sfu.url}/metrics`);
			expect(sample(text, `sfu_room_peers{room="${ref}"}`)).to.equal(1);
			expect(sample(text, `sfu_room_producers{room="${ref}"}`)).to.equal(1);
			expect(text).to.not.include('ward-12-consult');
			host.close();
			await waitFor(async () => sample((await scrape(`${sfu.url}/metrics`)).text, 'sfu_rooms') === 0, 5000, 'the room closed');
			({ text } = await scrape(`${sfu.url}/metrics`));
			expect(text).to.not.include(ref);
		} finally {
			await sfu.close();
		}
	});
});
