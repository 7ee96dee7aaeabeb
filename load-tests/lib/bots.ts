/** Protocol bots for the load tests: socket.io-client speaking the real signaling protocol. */
import type { types } from 'mediasoup';
import { TestClient } from '../../test/support/sfu.js';

export interface ViewerTiming {
	node: string;
	connectMs: number;
	joinMs: number;
	consumeMs: number;
	totalMs: number;
}

/** One watch-only viewer bot: returns its timings and keeps its socket open. */
export async function viewerBot(url: string, node: string, token: string, producerId: () => string | null, clients: TestClient[]): Promise<ViewerTiming> {
	const t0 = performance.now();
	const client = await TestClient.connect(url, { token });
	clients.push(client);
	const t1 = performance.now();
	const joined = await client.ok('join', { protocolVersion: 1 });
	const t2 = performance.now();
	if (joined.waiting) throw new Error('viewer parked in the waiting room');
	const caps = joined.routerRtpCapabilities as types.RtpCapabilities;
	await client.ok('setRtpCapabilities', { rtpCapabilities: caps });
	await client.ok('createTransport', { direction: 'recv' });
	const target =
		joined.peers.flatMap((p) => p.producers).find((p) => p.source === 'device')?.id ??
		producerId() ??
		(await client.waitForNotification('producerNew', (n) => n.producer.source === 'device', 10_000)).producer.id;
	const consumed = await client.ok('consume', { producerId: target });
	await client.ok('resumeConsumer', { consumerId: consumed.id });
	const t3 = performance.now();
	return { node, connectMs: t1 - t0, joinMs: t2 - t1, consumeMs: t3 - t2, totalMs: t3 - t0 };
}

/** Sums `name{...}` samples of a Prometheus text exposition, grouped by the `worker` label if any. */
export function metricSamples(text: string, name: string): Record<string, number> {
	const out: Record<string, number> = {};
	for (const line of text.split('\n')) {
		if (!line.startsWith(name)) continue;
		const match = /^([a-z_]+)(\{[^}]*\})?\s+([0-9.eE+-]+)/.exec(line);
		if (!match || match[1] !== name) continue;
		const labels = match[2] ?? '';
		const key = /worker="([^"]*)"/.exec(labels)?.[1] ?? ([...labels.matchAll(/(direction|type|name)="([^"]*)"/g)].map((m) => m[2]).join('/') || 'all');
		out[key] = (out[key] ?? 0) + Number(match[3]);
	}
	return out;
}


/** Sums `name{...}` samples of a Prometheus text exposition by the given labels' values, joined with '/'. */
export function metricBy(text: string, name: string, labels: string[]): Record<string, number> {
	const out: Record<string, number> = {};
	for (const line of text.split('\n')) {
		const match = /^([a-z_]+)(\{[^}]*\})?\s+([0-9.eE+-]+)/.exec(line);
		if (!match || match[1] !== name) continue;
		const key = labels.map((label) => new RegExp(`${label}="([^"]*)"`).exec(match[2] ?? '')?.[1] ?? '').join('/');
		out[key] = (out[key] ?? 0) + Number(match[3]);
	}
	return out;
}

/** One scrape of a node's /metrics (the admin token the runs mint), as exposition text. */
export async function scrapeMetrics(baseUrl: string, adminToken: string): Promise<string> {
	return (await fetch(`${baseUrl}/metrics`, { headers: { authorization: `Bearer ${adminToken}` } })).text();
}
