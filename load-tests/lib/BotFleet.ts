/**
 * Media bots spread over child processes (a Node process is one core; the
 * bots' SRTP and RTCP must not be what limits a run). Each process gets whole
 * rooms, its own MediaFeed, and reports every bot's numbers on request.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { BotReport } from './MediaBot.js';

/** One bot to start: where, as whom, what it publishes and consumes. */
export interface BotSpec {
	url: string;
	token: string;
	publish: ('audio' | 'video')[];
	/** Consume only these kinds (default: everything in the room). */
	consumeKinds?: ('audio' | 'video')[];
	/** Free-form label the runner groups results by (room, node, …). */
	group: string;
}

export type FleetMessage =
	| { type: 'start'; bots: BotSpec[]; clip: string | null; inFlight: number; maxLifetimeMs: number }
	| { type: 'report' }
	| { type: 'close' };

export type ProcessMessage =
	| { type: 'hello' }
	| { type: 'started'; index: number; ok: boolean; error?: string }
	| { type: 'ready' }
	| { type: 'report'; reports: (BotReport | null)[]; feedPackets: { audio: number; video: number } | null };

export interface FleetReport {
	bot: BotSpec;
	report: BotReport | null;
	error?: string;
}

const BOT_PROCESS = fileURLToPath(new URL('./botProcess.ts', import.meta.url));

class BotProcess {
	readonly child: ChildProcess;
	readonly specs: BotSpec[];
	readonly startErrors = new Map<number, string>();
	private listeners = new Set<(message: ProcessMessage) => void>();

	constructor(specs: BotSpec[]) {
		this.specs = specs;
		this.child = fork(BOT_PROCESS, [], { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
		this.child.on('message', (message: ProcessMessage) => {
			if (message.type === 'started' && !message.ok) this.startErrors.set(message.index, message.error ?? 'failed');
			for (const listener of this.listeners) listener(message);
		});
	}

	next<T extends ProcessMessage['type']>(type: T, timeoutMs: number): Promise<Extract<ProcessMessage, { type: T }>> {
		return new Promise((resolve, reject) => {
			const timer = setTimeout(() => {
				this.listeners.delete(listener);
				reject(new Error(`bot process ${this.child.pid}: no '${type}' within ${timeoutMs} ms`));
			}, timeoutMs);
			const listener = (message: ProcessMessage): void => {
				if (message.type !== type) return;
				clearTimeout(timer);
				this.listeners.delete(listener);
				resolve(message as Extract<ProcessMessage, { type: T }>);
			};
			this.listeners.add(listener);
		});
	}

	send(message: FleetMessage): void {
		this.child.send(message);
	}
}

export class BotFleet {
	private readonly processes: BotProcess[];
	private closed = false;

	private constructor(processes: BotProcess[]) {
		this.processes = processes;
	}

	/**
	 * Forks `processCount` bot processes and starts `bots` on them; specs with
	 * the same `group` land in the same process. Resolves when every bot has
	 * either started or failed (bounded by `timeoutMs`).
	 */
	static async start(options: { bots: BotSpec[]; clip: string | null; processCount: number; inFlight: number; timeoutMs: number; maxLifetimeMs: number }): Promise<BotFleet> {
		const groups = [...new Set(options.bots.map((b) => b.group))];
		const perProcess = Array.from({ length: Math.max(1, options.processCount) }, () => [] as BotSpec[]);
		for (const bot of options.bots) perProcess[groups.indexOf(bot.group) % perProcess.length]!.push(bot);
		const processes = perProcess.filter((specs) => specs.length > 0).map((specs) => new BotProcess(specs));
		const fleet = new BotFleet(processes);
		try {
			await Promise.all(processes.map((p) => p.next('hello', 20_000)));
			const ready = processes.map((p) => p.next('ready', options.timeoutMs));
			for (const p of processes) {
				p.send({ type: 'start', bots: p.specs, clip: options.clip, inFlight: Math.max(1, Math.ceil(options.inFlight / processes.length)), maxLifetimeMs: options.maxLifetimeMs });
			}
			await Promise.all(ready);
			return fleet;
		} catch (error) {
			await fleet.close();
			throw error;
		}
	}

	get pids(): number[] {
		return this.processes.map((p) => p.child.pid!);
	}

	/** Every bot's numbers so far, in no particular order. */
	async report(): Promise<{ bots: FleetReport[]; feedPackets: { audio: number; video: number }[] }> {
		const answers = await Promise.all(
			this.processes.map(async (p) => {
				const answer = p.next('report', 30_000);
				p.send({ type: 'report' });
				return { process: p, answer: await answer };
			}),
		);
		return {
			bots: answers.flatMap(({ process: p, answer }) =>
				p.specs.map((bot, i) => ({ bot, report: answer.reports[i] ?? null, ...(p.startErrors.has(i) ? { error: p.startErrors.get(i)! } : {}) })),
			),
			feedPackets: answers.flatMap(({ answer }) => (answer.feedPackets ? [answer.feedPackets] : [])),
		};
	}

	/** Closes every bot and waits for the processes to exit (SIGKILL after 10 s). */
	async close(): Promise<void> {
		if (this.closed) return;
		this.closed = true;
		await Promise.all(
			this.processes.map(
				(p) =>
					new Promise<void>((resolve) => {
						if (p.child.exitCode !== null || p.child.signalCode !== null) return resolve();
						const timer = setTimeout(() => p.child.kill('SIGKILL'), 10_000);
						p.child.once('exit', () => {
							clearTimeout(timer);
							resolve();
						});
						if (p.child.connected) p.send({ type: 'close' });
						else p.child.kill('SIGKILL');
					}),
			),
		);
	}
}
