import { readFileSync } from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

/** The program name (argv[0]'s basename) of a live process, or null if there is none. */
export function processName(pid: number): string | null {
	try {
		const argv0 = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0')[0] ?? '';
		return argv0 ? path.basename(argv0) : null;
	} catch {
		return null;
	}
}

/** True if the pid is a live (non-zombie) process. */
export function isAlive(pid: number): boolean {
	try {
		const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
		// Field 3, after the parenthesised command name, is the state.
		return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
	} catch {
		return false;
	}
}

/** Pids of every mediasoup-worker whose parent is `parentPid`. */
export function workerChildren(parentPid: number): number[] {
	const children = readFileSync(`/proc/${parentPid}/task/${parentPid}/children`, 'utf8').trim();
	if (!children) return [];
	return children
		.split(/\s+/)
		.map(Number)
		.filter((pid) => processName(pid) === 'mediasoup-worker');
}

/** Polls `check` until it returns a truthy value or the time is up. */
export async function waitFor<T>(check: () => T | Promise<T>, timeoutMs: number, what: string): Promise<NonNullable<T>> {
	const deadline = Date.now() + timeoutMs;
	for (;;) {
		const value = await check();
		if (value) return value;
		if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
		await sleep(50);
	}
}
