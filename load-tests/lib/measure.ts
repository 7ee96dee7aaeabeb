/** Shared measuring helpers for the load tests (loopback only, no test framework). */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** CPU time of every thread of a process, ns (schedstat is exact; utime ticks are 4 ms here). 0 if gone. */
export function cpuNs(pid: number): number {
	try {
		return readdirSync(`/proc/${pid}/task`).reduce((sum, tid) => {
			try {
				return sum + Number(readFileSync(`/proc/${pid}/task/${tid}/schedstat`, 'utf8').split(' ')[0]);
			} catch {
				return sum;
			}
		}, 0);
	} catch {
		return 0;
	}
}

/** Resident set size in MiB (0 if the process is gone). */
export function rssMiB(pid: number): number {
	try {
		const line = readFileSync(`/proc/${pid}/status`, 'utf8').split('\n').find((l) => l.startsWith('VmRSS:'));
		return line ? Number(line.split(/\s+/)[1]) / 1024 : 0;
	} catch {
		return 0;
	}
}

/** Nearest-rank percentile of an ascending array. */
export function percentile(sorted: number[], p: number): number {
	if (sorted.length === 0) return NaN;
	return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}

export interface Summary {
	count: number;
	p50: number;
	p95: number;
	p99: number;
	max: number;
	mean: number;
}

export function summarize(values: number[]): Summary {
	const sorted = [...values].sort((a, b) => a - b);
	return {
		count: sorted.length,
		p50: percentile(sorted, 50),
		p95: percentile(sorted, 95),
		p99: percentile(sorted, 99),
		max: sorted.at(-1) ?? NaN,
		mean: sorted.length ? sorted.reduce((a, b) => a + b, 0) / sorted.length : NaN,
	};
}

export const fmt = (n: number, digits = 1): string => (Number.isFinite(n) ? n.toFixed(digits) : 'n/a');

/** CPU of a set of processes over a window: call stop() to get ms of CPU per pid and wall ms. */
export function cpuWindow(pids: number[]): { stop(): { wallMs: number; cpuMs: Record<number, number> } } {
	const start = performance.now();
	const before = new Map(pids.map((pid) => [pid, cpuNs(pid)]));
	return {
		stop() {
			const wallMs = performance.now() - start;
			const cpuMs: Record<number, number> = {};
			for (const pid of pids) cpuMs[pid] = (cpuNs(pid) - before.get(pid)!) / 1e6;
			return { wallMs, cpuMs };
		},
	};
}

/** util-linux setpriv, where the system has it. */
const SETPRIV = ['/usr/bin/setpriv', '/bin/setpriv'].find((p) => existsSync(p));

/**
 * The argv that runs `command` with a parent-death signal (setpriv --pdeathsig), so it
 * ends even when this process is SIGKILLed; without setpriv, the command as is. It execs:
 * the pid is the program's.
 */
export function withParentDeath(command: string, args: string[], signal: 'TERM' | 'KILL'): string[] {
	return [...(SETPRIV ? [SETPRIV, '--pdeathsig', signal] : []), command, ...args];
}

/** Pins a process (all its threads) to the given CPU list, e.g. '1'. Best effort. */
export function pin(pid: number, cpus: string): void {
	try {
		execFileSync('taskset', ['-a', '-cp', cpus, String(pid)], { stdio: 'ignore' });
	} catch {
		// taskset missing: run unpinned.
	}
}

/** Runs `fn` on at most `limit` items at a time. */
export async function pool<T, R>(items: T[], limit: number, fn: (item: T, index: number) => Promise<R>): Promise<R[]> {
	const results = new Array<R>(items.length);
	let next = 0;
	const runners = Array.from({ length: Math.min(limit, items.length) }, async () => {
		for (;;) {
			const index = next++;
			if (index >= items.length) return;
			results[index] = await fn(items[index]!, index);
		}
	});
	await Promise.all(runners);
	return results;
}

export const RESULTS_DIR = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'results');

export function writeResult(name: string, data: unknown): string {
	mkdirSync(RESULTS_DIR, { recursive: true });
	const file = path.join(RESULTS_DIR, name);
	writeFileSync(file, JSON.stringify(data, null, 2));
	return path.relative(path.join(RESULTS_DIR, '..', '..'), file);
}

/** Rejects after ms: a bound for any phase. */
export function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
	let timer: NodeJS.Timeout;
	return Promise.race([
		promise.finally(() => clearTimeout(timer)),
		new Promise<never>((_, reject) => {
			timer = setTimeout(() => reject(new Error(`${what}: timed out after ${ms} ms`)), ms);
		}),
	]);
}

/** Pids of every process below `root` (children, grandchildren, …) whose command line contains `needle`. */
export function descendants(root: number, needle = ''): number[] {
	const parent = new Map<number, number>();
	for (const entry of readdirSync('/proc')) {
		if (!/^\d+$/.test(entry)) continue;
		try {
			const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
			parent.set(Number(entry), Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]));
		} catch {
			// Gone meanwhile.
		}
	}
	const found: number[] = [];
	for (const [pid] of parent) {
		let p = parent.get(pid);
		let depth = 0;
		while (p !== undefined && p !== root && p > 1 && depth++ < 20) p = parent.get(p);
		if (p !== root) continue;
		try {
			if (readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(needle)) found.push(pid);
		} catch {
			// Gone meanwhile.
		}
	}
	return found.sort((a, b) => a - b);
}

/**
 * Forces a full GC in a Node process started with --inspect=127.0.0.1:<port>
 * (Chrome DevTools Protocol over the inspector's WebSocket) and returns its V8
 * heap used afterwards, MiB. Loopback only.
 */
export async function heapAfterGcMiB(inspectorPort: number): Promise<number> {
	const { default: WebSocket } = await import('ws');
	const list = (await (await fetch(`http://127.0.0.1:${inspectorPort}/json/list`)).json()) as { webSocketDebuggerUrl: string }[];
	const socket = new WebSocket(list[0]!.webSocketDebuggerUrl);
	await new Promise<void>((resolve, reject) => {
		socket.once('open', () => resolve());
		socket.once('error', reject);
	});
	let id = 0;
	const call = (method: string, params: Record<string, unknown> = {}): Promise<Record<string, unknown>> =>
		new Promise((resolve, reject) => {
			const my = ++id;
			const timer = setTimeout(() => reject(new Error(`inspector ${method}: no answer`)), 15_000);
			const onMessage = (data: Buffer): void => {
				const message = JSON.parse(data.toString()) as { id?: number; result?: Record<string, unknown> };
				if (message.id !== my) return;
				clearTimeout(timer);
				socket.off('message', onMessage);
				resolve(message.result ?? {});
			};
			socket.on('message', onMessage);
			socket.send(JSON.stringify({ id: my, method, params }));
		});
	try {
		await call('HeapProfiler.collectGarbage');
		await call('HeapProfiler.collectGarbage');
		const result = await call('Runtime.evaluate', { expression: 'process.memoryUsage().heapUsed', returnByValue: true });
		return Number((result['result'] as { value: number }).value) / 2 ** 20;
	} finally {
		socket.close();
	}
}
