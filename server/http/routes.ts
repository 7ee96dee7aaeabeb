import type { FastifyInstance } from 'fastify';
import type { AuditLog, RefusalRecorder } from '../audit/index.js';
import type { TokenVerifier } from '../auth/index.js';
import type { NodePipes, NodeRegistry } from '../cluster/index.js';
import type { IngestService } from '../ingest/index.js';
import type { Logger } from '../logger/index.js';
import type { RecordingService } from '../recording/index.js';
import type { RoomRegistry } from '../rooms/index.js';
import { registerAuditRoutes } from './audit.js';
import { registerClusterRoutes } from './cluster.js';
import { registerDemoRoutes, type DemoRoutesOptions } from './demo.js';
import { registerIngestRoutes } from './ingests.js';
import { registerInternalRoutes } from './internal.js';
import { registerLegalHoldRoutes } from './legalHold.js';
import { registerMetricsRoute, type MetricsExposition } from './metrics.js';
import { registerRecordingRoutes } from './recordings.js';

export interface RoutesDeps {
	demo: DemoRoutesOptions;
	verifier: TokenVerifier;
	rooms: RoomRegistry;
	ingest: IngestService;
	/** Null when this node records nothing (no ffmpeg). */
	recordings: RecordingService | null;
	registry: NodeRegistry;
	/** What pages need to reach signaling (`GET /api/client-config`). */
	clientConfig: () => { protocolVersion: number; signalingPort: number | null };
	/** The node's audit trail and where all nodes' trails live; null when disabled. */
	audit: { log: AuditLog; refusals: RefusalRecorder; root: string } | null;
	/** Metrics served on this port, to bearers of `metricsToken` or an admin token (null: off, or on their own METRICS_PORT). */
	metrics: MetricsExposition | null;
	/** METRICS_TOKEN. */
	metricsToken?: string;
	/** Node-to-node routes of a spanning cluster (null on a single node). */
	internal: { secret: string; pipes: NodePipes } | null;
	logger: Logger;
}

/**
 * Every route a node serves besides health (HttpServer's own): the demo
 * portal and SDK bundles, REST for recordings, ingest, cluster, audit and
 * legal hold, /metrics, and the signed node-to-node routes. The one place
 * routes are registered; register before the server listens.
 */
export async function registerRoutes(app: FastifyInstance, deps: RoutesDeps): Promise<void> {
	await registerDemoRoutes(app, deps.demo);
	if (deps.recordings) registerRecordingRoutes(app, { recordings: deps.recordings, rooms: deps.rooms, verifier: deps.verifier, logger: deps.logger });
	registerIngestRoutes(app, { ingest: deps.ingest, rooms: deps.rooms, verifier: deps.verifier });
	registerClusterRoutes(app, { registry: deps.registry, verifier: deps.verifier });
	if (deps.internal) registerInternalRoutes(app, deps.internal);
	// Pages learn where signaling lives: same origin, or the uWS port.
	app.get('/api/client-config', async () => deps.clientConfig());
	if (deps.audit) registerAuditRoutes(app, { log: deps.audit.log, refusals: deps.audit.refusals, root: deps.audit.root, recordings: deps.recordings, verifier: deps.verifier });
	if (deps.recordings) registerLegalHoldRoutes(app, { recordings: deps.recordings, verifier: deps.verifier, log: deps.audit?.log ?? null });
	if (deps.metrics) registerMetricsRoute(app, deps.metrics, { verifier: deps.verifier, ...(deps.metricsToken ? { token: deps.metricsToken } : {}) });
}
