import { startServer, type ServerProcess } from '../../test/support/serverProcess.js';
import { descendants } from './measure.js';

/**
 * What every benchmark node runs with: one worker on loopback, no waiting
 * room, and the per-address, per-node and per-room caps lifted, so a run
 * measures the SFU and not the limits that protect it from strangers.
 */
export const BENCH_NODE_ENV: Readonly<Record<string, string>> = {
	MEDIASOUP_NUM_WORKERS: '1',
	WEBRTC_LISTEN_IP: '127.0.0.1',
	LOG_LEVEL: 'info',
	ROOM_WAITING_ROOM: 'false',
	MAX_CONNECTIONS_PER_IP: '100000',
	// Hundreds of bots connect at once, all still authenticating for a moment.
	SIGNALING_MAX_UNAUTHENTICATED: '100000',
	MAX_ROOMS_PER_NODE: '10000',
	NODE_MAX_PEERS: '100000',
};

export interface BenchServer {
	server: ServerProcess;
	/** The node's process id. */
	pid: number;
	/** Its mediasoup workers' process ids. */
	workers: number[];
}

/**
 * Starts a node for a benchmark (BENCH_NODE_ENV overlaid with `env`), optionally
 * pinned to one CPU core, and finds its workers. The caller stops `server`.
 */
export async function startBenchServer(env: Record<string, string> = {}, options: { pinCore?: number } = {}): Promise<BenchServer> {
	const wrapper = options.pinCore !== undefined ? ['taskset', '-c', String(options.pinCore)] : [];
	const server = await startServer({ ...BENCH_NODE_ENV, ...env }, 30_000, wrapper);
	const pid = server.proc.pid!;
	return { server, pid, workers: descendants(pid, 'mediasoup-worker') };
}
