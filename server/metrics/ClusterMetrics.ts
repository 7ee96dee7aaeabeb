import { Gauge, type Registry } from 'prom-client';

/** What the cluster metrics read, each scrape. */
export interface ClusterSource {
	/** Redis round trip of the last heartbeat, ms; null while Redis is unreachable. */
	roundTripMs(): number | null;
	/** Live nodes seen in the registry (this one included); null when unknown. */
	liveNodes(): Promise<number | null>;
	/** Producers piped in from / out to other nodes. */
	pipes(): { inbound: number; outbound: number };
}

/**
 * Cluster metrics, registered only when the node runs with REDIS_URL (a
 * single node has no cluster to report): Redis reachability and round trip,
 * live nodes, pipes between nodes.
 */
export function registerClusterMetrics(registry: Registry, source: ClusterSource): void {
	new Gauge({
		name: 'sfu_cluster_redis_up',
		help: '1 while the cluster state (Redis) answered the last heartbeat, else 0.',
		registers: [registry],
		collect() {
			this.set(source.roundTripMs() === null ? 0 : 1);
		},
	});
	new Gauge({
		name: 'sfu_cluster_redis_rtt_seconds',
		help: 'Round trip of the last heartbeat to Redis, per command.',
		registers: [registry],
		collect() {
			const ms = source.roundTripMs();
			if (ms !== null) this.set(ms / 1000);
		},
	});
	new Gauge({
		name: 'sfu_cluster_nodes',
		help: 'Live nodes in the cluster registry, as this node sees them.',
		registers: [registry],
		async collect() {
			const nodes = await source.liveNodes();
			if (nodes !== null) this.set(nodes);
		},
	});
	new Gauge({
		name: 'sfu_cluster_pipes',
		help: 'Producers piped between this node and others, by direction (in: pulled here; out: sent to others).',
		labelNames: ['direction'],
		registers: [registry],
		collect() {
			const { inbound, outbound } = source.pipes();
			this.set({ direction: 'in' }, inbound);
			this.set({ direction: 'out' }, outbound);
		},
	});
}
