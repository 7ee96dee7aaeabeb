import { expect } from 'chai';
import path from 'node:path';
import { launchBrowser, type TestBrowser } from '../support/browser.js';
import { openDemo, waitForMediaFrom, type DemoParticipant } from '../support/demoPage.js';
import { waitFor } from '../support/processes.js';
import { expandGrafanaVariables, freePort, parsePromql, promtool, SHIPPED_PROMETHEUS_DIR, startPrometheus, type TestPrometheus } from '../support/prometheus.js';
import { mintToken, startSfu, TestClient, type TestSfu } from '../support/sfu.js';
import { dashboardQueries, PENDING_METRICS, RULES_DIR, shippedRules, type ShippedQuery } from './shippedQueries.js';

const value = (series: { value: [number, string] }[]): number => Number(series[0]?.value[1] ?? Number.NaN);

describe('observability: the shipped Prometheus config, rules and dashboards against a real Prometheus', function () {
	this.timeout(180_000);
	let sfu: TestSfu;
	let prometheus: TestPrometheus;
	let browser: TestBrowser;
	let host: DemoParticipant;
	let specialist: DemoParticipant;
	let recorder: TestClient | null = null;
	const room = 'metrics-consult';

	before(async function () {
		this.timeout(120_000);
		sfu = await startSfu({
			METRICS_STATS_INTERVAL_MS: '1000',
			METRICS_ROOM_LABELS: '1',
			RECORDING_SEGMENT_SECONDS: '2',
			ROOM_WAITING_ROOM: 'false',
			LOG_LEVEL: 'info',
			// As deployed: Prometheus scrapes the admin port, not the patients' HTTP port.
			METRICS_PORT: String(await freePort()),
		});
		prometheus = await startPrometheus([`127.0.0.1:${sfu.server.metricsPort}`]);
		browser = await launchBrowser();
		host = await openDemo(browser, sfu.url, room, 'host');
		specialist = await openDemo(browser, sfu.url, room, 'clinician');
		await waitForMediaFrom(host, specialist);
		await waitForMediaFrom(specialist, host);
	});

	after(async () => {
		recorder?.close();
		await browser?.close();
		await prometheus?.close();
		await sfu?.close();
	});

	it('promtool accepts the shipped prometheus.yml and rule files', () => {
		const rules = promtool('check', 'rules', ...shippedRules().map((r) => r.where.split(' › ')[0]!).filter((f, i, all) => all.indexOf(f) === i).map((f) => path.join(RULES_DIR, f)));
		expect(rules.status, rules.output).to.equal(0);
		const config = promtool('check', 'config', path.join(SHIPPED_PROMETHEUS_DIR, 'prometheus.yml'));
		expect(config.status, config.output).to.equal(0);
		// The copy the test runs (faster intervals, test targets) is valid too.
		const running = promtool('check', 'config', path.join(prometheus.configDir, 'prometheus.yml'));
		expect(running.status, running.output).to.equal(0);
	});

	it('scrapes a node while Chromium peers publish: bytes in and out grow, and it counts the right consumers', async () => {
		// Two peers, each publishing audio + video and consuming the other's two tracks.
		const consumers = sfu.server.counts().consumers;
		expect(consumers).to.equal(4);
		await waitFor(async () => value(await prometheus.query('sum(sfu_consumers{job="sfu", transport="webrtc"})')) === consumers, 15_000, 'Prometheus to see 4 WebRTC consumers');
		expect(value(await prometheus.query('sum(sfu_consumers{job="sfu"})'))).to.equal(consumers);
		expect(value(await prometheus.query('sum(sfu_producers{job="sfu", transport="webrtc"})'))).to.equal(4);
		expect(value(await prometheus.query('sum(sfu_peers{job="sfu", state="joined"})'))).to.equal(2);
		for (const direction of ['in', 'out']) {
			for (const kind of ['audio', 'video']) {
				await waitFor(
					async () => value(await prometheus.query(`sum(rate(sfu_rtp_bytes_total{job="sfu", direction="${direction}", kind="${kind}"}[5s]))`)) > 0,
					20_000,
					`${kind} bytes ${direction}`,
				);
			}
		}
		const inVideo = value(await prometheus.query('sum(sfu_rtp_bytes_total{job="sfu", direction="in", kind="video"})'));
		expect(inVideo).to.be.greaterThan(50_000);
		expect(value(await prometheus.query('sum(sfu_transport_bytes_total{job="sfu", type="webrtc"})'))).to.be.greaterThan(inVideo);
		// Both peers got media, so both directions of join → first media were timed.
		for (const direction of ['to_peer', 'from_peer']) {
			expect(value(await prometheus.query(`sum(sfu_join_first_media_seconds_count{job="sfu", direction="${direction}"})`))).to.equal(2);
		}
		// No identifiers in labels: peer ids and the room id appear nowhere in what Prometheus stored.
		const everything = JSON.stringify(await prometheus.query('{job="sfu"}'));
		for (const secret of [host.peerId, specialist.peerId, room]) expect(everything).to.not.include(secret);
	});

	it('counts a recording started through the protocol: active, bytes sealed, outflow to the recorder', async () => {
		// A short-lived second connection makes a disconnect to count, too.
		const passerby = await TestClient.connect(sfu.url, { token: await mintToken({ room, role: 'observer' }) });
		await passerby.ok('join', { protocolVersion: 1 });
		passerby.close();
		recorder = await TestClient.connect(sfu.url, { token: await mintToken({ room, role: 'host', sub: 'recording-host' }) });
		await recorder.ok('join', { protocolVersion: 1 });
		await recorder.ok('startRecording', {});
		await waitFor(async () => value(await prometheus.query('sum(sfu_recordings_active{job="sfu"})')) === 1, 15_000, 'an active recording');
		await waitFor(async () => value(await prometheus.query('sum(sfu_recording_bytes_total{job="sfu"})')) > 0, 30_000, 'sealed recording bytes');
		await waitFor(
			async () => value(await prometheus.query('sum(rate(sfu_rtp_bytes_total{job="sfu", direction="out", transport="plain"}[5s]))')) > 0,
			15_000,
			'RTP flowing to the recorder',
		);
		expect(value(await prometheus.query('sum(sfu_recording_participants{job="sfu"})'))).to.equal(2);
		await waitFor(async () => value(await prometheus.query('sum(sfu_signaling_disconnects_total{job="sfu"})')) >= 1, 10_000, 'a counted disconnect');
	});

	/** Fails with every offending query at once: a misspelled metric names itself. */
	async function checkQueries(queries: ShippedQuery[], mode: 'dashboard' | 'rule'): Promise<void> {
		const problems: string[] = [];
		for (const { where, expr: raw } of queries) {
			const expr = expandGrafanaVariables(raw);
			const parsed = parsePromql(expr);
			if (parsed.errors.length > 0) {
				problems.push(`${where}: does not parse: ${parsed.errors.join('; ')}`);
				continue;
			}
			const pending = parsed.selectors.filter((s) => PENDING_METRICS[s.metric]);
			for (const selector of parsed.selectors) {
				if (PENDING_METRICS[selector.metric]) continue;
				const series = await prometheus.query(selector.text);
				if (series.length === 0) problems.push(`${where}: selector ${selector.text} returns no series`);
			}
			try {
				// Dashboards must show data; rules must evaluate to a series wherever they could fire.
				const evaluated = mode === 'dashboard' ? expr : parsed.withBool;
				const result = await prometheus.query(evaluated);
				// NaN (a quantile over no observations) draws nothing in Grafana: it is no data.
				const finite = result.filter((s) => Number.isFinite(Number(s.value[1])));
				if (finite.length === 0 && pending.length === 0) problems.push(`${where}: ${evaluated} returns no series with a value (${JSON.stringify(result).slice(0, 200)})`);
			} catch (error) {
				problems.push(`${where}: ${(error as Error).message}`);
			}
		}
		expect(problems, problems.join('\n')).to.deep.equal([]);
	}

	it('the query check catches a misspelled metric, a wrong label and a syntax error', async () => {
		const canaries = [
			{ where: 'canary › misspelled', expr: 'sum(rate(sfu_rtp_byte_total{job="sfu"}[$__rate_interval]))' },
			{ where: 'canary › wrong label', expr: 'sum(sfu_consumers{job="sfu", transport="webrtcc"})' },
			{ where: 'canary › syntax', expr: 'sum(sfu_consumers{job="sfu"}' },
		];
		let failure = '';
		try {
			await checkQueries(canaries, 'dashboard');
		} catch (error) {
			failure = (error as Error).message;
		}
		for (const canary of canaries) expect(failure).to.include(canary.where);
	});

	it('every dashboard panel query and variable parses and returns data', async () => {
		const queries = dashboardQueries();
		expect(queries.length).to.be.greaterThan(40);
		// Let the rate windows ($__rate_interval → 1m here) hold several samples of everything above.
		await checkQueries(queries, 'dashboard');
	});

	it('every alert and recording rule parses and evaluates to series (metrics of unbuilt modules excepted, and proven absent)', async () => {
		const rules = shippedRules();
		expect(rules.filter((r) => r.kind === 'alert').map((r) => r.name)).to.include.members([
			'SfuWorkerCpuHigh',
			'SfuPacketLossHigh',
			'SfuRecordingFailing',
			'SfuNodeDown',
			'SfuRedisUnreachable',
		]);
		// Recording rules need a couple of evaluations before alerts can read them.
		await waitFor(async () => (await prometheus.query('sfu:rtp_loss_ratio:rate2m')).length > 0, 15_000, 'recording rules evaluated');
		await checkQueries(rules, 'rule');
		for (const metric of Object.keys(PENDING_METRICS)) {
			expect(await prometheus.query(`{__name__="${metric}"}`), `${metric} is exported now: take it out of PENDING_METRICS`).to.deep.equal([]);
		}
	});
});
