import type { FastifyInstance } from 'fastify';

/** What /healthz reports: is the process alive, and how are its workers. */
export interface HealthReport {
	status: 'ok' | 'degraded' | 'shutting_down';
	version: string;
	uptimeSeconds: number;
	workers: { slot: number; pid: number | null; restarts: number }[];
}

/** What /readyz reports: may a load balancer send new sessions here. */
export interface Readiness {
	ready: boolean;
	/** Why not, in stable codes (e.g. "no_workers", "shutting_down"). */
	reasons: string[];
}

export interface HealthSource {
	health(): HealthReport;
	readiness(): Readiness;
}

export function registerHealthRoutes(app: FastifyInstance, source: HealthSource): void {
	// Liveness answers 200 while the process can answer at all; degraded
	// states are in the body so a restart is not triggered by a worker respawn.
	app.get('/healthz', async () => source.health());

	app.get('/readyz', async (_request, reply) => {
		const readiness = source.readiness();
		return reply.code(readiness.ready ? 200 : 503).send(readiness);
	});
}
