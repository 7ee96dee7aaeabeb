import { Counter, Gauge, type Registry } from 'prom-client';
import { bounded } from './labels.js';

/** States of a pulled ingest source (RTSP/SRT/file via ffmpeg). */
export const INGEST_STATES = ['connecting', 'live', 'retrying', 'failed', 'stopped'] as const;

/**
 * What the metrics need from the ingest module: its pulled sources now, and
 * their state changes. Structural, so ingest does not depend on metrics; the
 * ingest module's IngestService is meant to fit it as is.
 */
export interface IngestSource {
	all(): readonly { state: string }[];
	on(event: 'statechange', listener: (roomId: string, status: { state: string }) => void): unknown;
}

/**
 * Pulled ingest sources by state, and state changes (a source flapping
 * between live and retrying is a device link in trouble). Registered only
 * when the node has an ingest module to feed it.
 */
export function registerIngestMetrics(registry: Registry, ingest: IngestSource): void {
	const registers = [registry];
	new Gauge({
		name: 'sfu_ingest_sources',
		help: 'Pulled ingest sources (RTSP/SRT/file through ffmpeg), by state.',
		labelNames: ['state'],
		registers,
		collect() {
			for (const state of INGEST_STATES) this.set({ state }, 0);
			for (const source of ingest.all()) this.inc({ state: bounded(source.state, INGEST_STATES) });
		},
	});
	const changes = new Counter({ name: 'sfu_ingest_state_changes_total', help: 'State changes of pulled ingest sources, by new state.', labelNames: ['state'], registers });
	for (const state of INGEST_STATES) changes.inc({ state }, 0);
	ingest.on('statechange', (_roomId, status) => changes.inc({ state: bounded(status.state, INGEST_STATES) }));
}
