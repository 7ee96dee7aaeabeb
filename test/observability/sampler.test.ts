import { expect } from 'chai';
import { setTimeout as sleep } from 'node:timers/promises';
import { Registry } from 'prom-client';
import { measureSamplingCost } from '../../load-tests/statsSamplingCost.js';
import { MediaObjects, RtpMetrics, StatsSampler, type RtpStreamSample, type TrackedObject } from '../../server/metrics/index.js';

/** A tracked consumer whose getStats() is a probe (no worker needed). */
function fakeConsumer(id: number, probe: { inFlight: number; maxInFlight: number; calls: number[] }): TrackedObject {
	const object = {
		closed: false,
		async getStats() {
			probe.inFlight += 1;
			probe.maxInFlight = Math.max(probe.maxInFlight, probe.inFlight);
			probe.calls.push(id);
			await sleep(2);
			probe.inFlight -= 1;
			return [];
		},
	};
	return { type: 'consumer', object, worker: '0', router: {}, transportType: 'webrtc', kind: 'video', source: 'camera', peerId: 'p' } as unknown as TrackedObject;
}

function stream(fields: Partial<RtpStreamSample>): RtpStreamSample {
	return { type: 'outbound-rtp', ssrc: 1, kind: 'video', packetCount: 0, byteCount: 0, packetsLost: 0, nackCount: 0, pliCount: 0, firCount: 0, score: 10, ...fields };
}

async function counterValue(registry: Registry, name: string, labels: Record<string, string>): Promise<number> {
	// Histograms list their _count and _sum series under the histogram's own name.
	const values = (await registry.getMetricsAsJSON()).flatMap((m) =>
		(m.values as { value: number; metricName?: string; labels: Record<string, string | number> }[]).map((v) => ({ ...v, metricName: v.metricName ?? m.name })),
	);
	return values
		.filter((v) => v.metricName === name && Object.entries(labels).every(([k, l]) => v.labels[k] === l))
		.reduce((sum, v) => sum + v.value, 0);
}

describe('observability: stats sampling', function () {
	this.timeout(90_000);

	it('bounds each pass (max objects, calls in flight) and reaches every object round-robin', async () => {
		const objects = new MediaObjects();
		const probe = { inFlight: 0, maxInFlight: 0, calls: [] as number[] };
		for (let i = 0; i < 25; i++) {
			const tracked = fakeConsumer(i, probe);
			objects.objects.set(tracked.object, tracked);
		}
		const ticks: { sampled: number; deferred: number }[] = [];
		const sink = { transport() {}, producer() {}, consumer() {}, tick: (t: { sampled: number; deferred: number }) => ticks.push(t) };
		const sampler = new StatsSampler(objects, sink, { intervalMs: 10_000, maxObjectsPerTick: 10, concurrency: 3 });
		await sampler.sampleOnce();
		expect(ticks[0]).to.include({ sampled: 10, deferred: 15 });
		expect(probe.maxInFlight).to.equal(3);
		await sampler.sampleOnce();
		await sampler.sampleOnce();
		// Three passes of 10 cover all 25 before anything is sampled twice.
		expect(new Set(probe.calls.slice(0, 25)).size).to.equal(25);
		sampler.close();
	});

	it('adds what mediasoup’s cumulative counters grew by, per stream, and never subtracts', async () => {
		const registry = new Registry();
		const rtp = new RtpMetrics(registry);
		const tracked = fakeConsumer(1, { inFlight: 0, maxInFlight: 0, calls: [] }) as Extract<TrackedObject, { type: 'consumer' }>;
		const labels = { direction: 'out', kind: 'video', transport: 'webrtc' };
		rtp.consumer(tracked, [stream({ ssrc: 1, packetCount: 100, byteCount: 100_000, packetsLost: 5, nackCount: 2, roundTripTime: 40 })]);
		rtp.consumer(tracked, [stream({ ssrc: 1, packetCount: 150, byteCount: 150_000, packetsLost: 3 }), stream({ ssrc: 2, packetCount: 10, byteCount: 1000 })]);
		expect(await counterValue(registry, 'sfu_rtp_packets_total', labels)).to.equal(160);
		expect(await counterValue(registry, 'sfu_rtp_bytes_total', labels)).to.equal(151_000);
		// RTCP's cumulative loss went from 5 to 3: nothing is taken back.
		expect(await counterValue(registry, 'sfu_rtp_packets_lost_total', labels)).to.equal(5);
		expect(await counterValue(registry, 'sfu_rtp_nack_total', labels)).to.equal(2);
		expect(await counterValue(registry, 'sfu_rtp_round_trip_seconds_count', { direction: 'out' })).to.equal(1);
	});

	it('costs well under 2 % of a core at 100 consumers (load-tests/statsSamplingCost.ts with real mediasoup and ffmpeg)', async () => {
		const result = await measureSamplingCost({ consumers: 100, passes: 30, intervalMs: 10_000, warmupSeconds: 2 });
		console.log(`      sampling ${result.objectsPerPass} objects: ${result.msPerPass.toFixed(2)} ms CPU per pass = ${result.percentOfCore.toFixed(3)} % of a core at 10 s (${result.percentOfCoreAt1s.toFixed(2)} % at 1 s)`);
		expect(result.objectsPerPass).to.equal(202);
		expect(result.bytesSent).to.be.greaterThan(0);
		expect(result.percentOfCore).to.be.below(2);
	});
});

describe('observability: ingest metrics (extension point)', () => {
	it('counts pulled sources by state and their state changes, from a source shaped like the ingest module', async () => {
		const { EventEmitter } = await import('node:events');
		const { registerIngestMetrics } = await import('../../server/metrics/index.js');
		const sources = [{ state: 'live' }, { state: 'retrying' }, { state: 'live' }, { state: 'rtsp://camera-7' }];
		const ingest = Object.assign(new EventEmitter(), { all: () => sources });
		const registry = new Registry();
		registerIngestMetrics(registry, ingest);
		ingest.emit('statechange', 'room', { state: 'retrying' });
		const text = await registry.metrics();
		expect(text).to.include('sfu_ingest_sources{state="live"} 2');
		expect(text).to.include('sfu_ingest_sources{state="retrying"} 1');
		expect(text).to.include('sfu_ingest_sources{state="other"} 1');
		expect(text).to.include('sfu_ingest_state_changes_total{state="retrying"} 1');
		expect(text).to.not.include('camera-7');
	});
});
