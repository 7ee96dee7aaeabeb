import { setTimeout as sleep } from 'node:timers/promises';

/** True while a process with this pid exists (zombies included). */
export function processExists(pid: number): boolean {
	try {
		process.kill(pid, 0);
		return true;
	} catch (error) {
		return (error as NodeJS.ErrnoException).code === 'EPERM';
	}
}

/** Resolves true once the process is gone, false if it outlives `timeoutMs`. */
export async function waitForProcessExit(pid: number, timeoutMs: number): Promise<boolean> {
	const deadline = Date.now() + timeoutMs;
	while (processExists(pid)) {
		if (Date.now() >= deadline) return false;
		await sleep(20);
	}
	return true;
}
