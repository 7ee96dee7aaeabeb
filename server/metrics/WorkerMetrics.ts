import { readFileSync } from 'node:fs';
import { Counter, Gauge, type Registry } from 'prom-client';
import { readReceiveBufferErrors, readRmemDefault, type WorkerPool } from '../media/index.js';
import type { MediaObjects } from './MediaObjects.js';

/** How long a scrape waits for a worker's resource usage before reporting without it. */
const USAGE_TIMEOUT_MS = 1000;

/** Resident memory of a process from /proc (Linux), bytes; null elsewhere or when gone. */
function residentBytes(pid: number): number | null {
	try {
		const match = /^VmRSS:\s+(\d+)\s+kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
		return match ? Number(match[1]) * 1024 : null;
	} catch {
		return null;
	}
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T | null> {
	return new Promise((resolve) => {
		const timer = setTimeout(() => resolve(null), ms);
		promise.then(
			(value) => {
				clearTimeout(timer);
				resolve(value);
			},
			() => {
				clearTimeout(timer);
				resolve(null);
			},
		);
	});
}

/**
 * Workers and the mediasoup objects on them, read when Prometheus scrapes:
 * gauges come from live state (never from counting events, so they cannot
 * drift), CPU time from each worker's getrusage().
 */
export function registerWorkerMetrics(registry: Registry, pool: WorkerPool, objects: MediaObjects): void {
	const registers = [registry];
	// CPU seconds are cumulative per worker process: a replaced worker starts from zero again.
	const cpuBase = new Map<string, { pid: number; user: number; system: number }>();
	const cpu = new Counter({
		name: 'sfu_worker_cpu_seconds_total',
		help: 'CPU time of each mediasoup worker process (one worker uses at most one core), by mode.',
		labelNames: ['worker', 'mode'],
		registers,
		async collect() {
			await Promise.all(
				pool.workers.map(async (worker) => {
					const usage = await withTimeout(worker.getResourceUsage(), USAGE_TIMEOUT_MS);
					if (!usage) return;
					const slot = String(worker.appData.slot);
					let base = cpuBase.get(slot);
					if (!base || base.pid !== worker.pid) cpuBase.set(slot, (base = { pid: worker.pid, user: 0, system: 0 }));
					const user = usage.ru_utime / 1000;
					const system = usage.ru_stime / 1000;
					this.inc({ worker: slot, mode: 'user' }, Math.max(0, user - base.user));
					this.inc({ worker: slot, mode: 'system' }, Math.max(0, system - base.system));
					base.user = Math.max(base.user, user);
					base.system = Math.max(base.system, system);
				}),
			);
		},
	});
	void cpu;
	new Gauge({
		name: 'sfu_worker_resident_memory_bytes',
		help: 'Resident memory of each mediasoup worker process.',
		labelNames: ['worker'],
		registers,
		collect() {
			this.reset();
			for (const worker of pool.workers) {
				const bytes = residentBytes(worker.pid);
				if (bytes !== null) this.set({ worker: String(worker.appData.slot) }, bytes);
			}
		},
	});
	new Gauge({
		name: 'sfu_worker_up',
		help: '1 while the worker slot has a live mediasoup worker, 0 while its replacement is pending.',
		labelNames: ['worker'],
		registers,
		collect() {
			for (const slot of pool.status()) this.set({ worker: String(slot.slot) }, slot.pid === null ? 0 : 1);
		},
	});
	const restartsSeen = new Map<number, number>();
	new Counter({
		name: 'sfu_worker_restarts_total',
		help: 'mediasoup workers that died and were replaced, per slot.',
		labelNames: ['worker'],
		registers,
		collect() {
			for (const slot of pool.status()) {
				this.inc({ worker: String(slot.slot) }, Math.max(0, slot.restarts - (restartsSeen.get(slot.slot) ?? 0)));
				restartsSeen.set(slot.slot, slot.restarts);
			}
		},
	});
	new Gauge({
		name: 'sfu_worker_routers',
		help: 'Routers on each worker.',
		labelNames: ['worker'],
		registers,
		collect() {
			this.reset();
			for (const worker of pool.workers) this.set({ worker: String(worker.appData.slot) }, worker.appData.counts.routers);
		},
	});
	new Gauge({
		name: 'sfu_worker_consumers',
		help: 'Consumers on each worker (pipe consumers included): the load a worker carries.',
		labelNames: ['worker'],
		registers,
		collect() {
			this.reset();
			for (const worker of pool.workers) this.set({ worker: String(worker.appData.slot) }, worker.appData.counts.consumers);
		},
	});

	const gaugeOf = (name: string, help: string, labelNames: string[], fill: (g: Gauge) => void): void => {
		new Gauge({
			name,
			help,
			labelNames,
			registers,
			collect() {
				this.reset();
				fill(this);
			},
		});
	};
	gaugeOf('sfu_transports', 'Live mediasoup transports, by type (pipe: between routers of this node).', ['type'], (g) => {
		for (const type of ['webrtc', 'plain', 'pipe', 'direct']) g.set({ type }, 0);
		for (const [type, n] of objects.count('transport', (t) => t.transportType)) g.set({ type }, n);
	});
	gaugeOf('sfu_producers', 'Live producers, by kind, source and transport type.', ['kind', 'source', 'transport'], (g) => {
		for (const [key, n] of objects.count('producer', (p) => `${p.kind}|${p.source}|${p.transportType}`)) {
			const [kind, source, transport] = key.split('|') as [string, string, string];
			g.set({ kind, source, transport }, n);
		}
	});
	gaugeOf('sfu_consumers', 'Live consumers, by kind, source and transport type.', ['kind', 'source', 'transport'], (g) => {
		for (const [key, n] of objects.count('consumer', (c) => `${c.kind}|${c.source}|${c.transportType}`)) {
			const [kind, source, transport] = key.split('|') as [string, string, string];
			g.set({ kind, source, transport }, n);
		}
	});
}

/**
 * The host's UDP receive buffers: the default every mediasoup socket gets
 * (mediasoup 3.12 does not size its own) and the kernel's count of datagrams
 * dropped because a receive buffer was full — host-wide, so other programs'
 * drops count too, but on a media node they are almost all the workers'.
 */
export function registerHostUdpMetrics(registry: Registry): void {
	const registers = [registry];
	new Gauge({
		name: 'sfu_host_udp_rmem_default_bytes',
		help: 'net.core.rmem_default: the receive buffer of every mediasoup socket (4 MiB recommended).',
		registers,
		collect() {
			const rmemDefault = readRmemDefault();
			if (rmemDefault !== null) this.set(rmemDefault);
		},
	});
	// Counted from the node's start: the kernel's total includes whatever happened before.
	let last: number | null = readReceiveBufferErrors();
	new Counter({
		name: 'sfu_host_udp_receive_buffer_errors_total',
		help: 'UDP datagrams the kernel dropped on this host because a socket receive buffer was full (RcvbufErrors).',
		registers,
		collect() {
			const now = readReceiveBufferErrors();
			if (now === null) return;
			if (last !== null && now >= last) this.inc(now - last);
			last = now;
		},
	});
}
