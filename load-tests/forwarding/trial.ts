/**
 * One trial: N sink ports (sink.c, core 0), a system under test forwarding one
 * input stream to all of them (pinned to core 1), the dump replayed into it in
 * real time (sender.c, core 0). After the warm-up, SIGUSR1 opens the measured
 * window in the sender and the sink while the system's CPU (all its threads,
 * schedstat) is sampled; SIGUSR2 closes it. Then everything is stopped.
 */
import type { ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { cpuNs } from '../lib/measure.js';
import type { NativeTools } from './native.js';
import { firstLine, removeTempDir, spawnTracked, stopChild, tempDir, waitExit } from './processes.js';

/** A forwarder with one input and N outputs, running while the trial lasts. */
export interface RunningSystem {
	/** The process whose CPU is measured (every thread). */
	pid: number;
	/** Where the input RTP goes (127.0.0.1), and the SSRC / payload type it must carry. */
	inputPort: number;
	ssrc: number;
	payloadType: number;
	close(): Promise<void>;
}

/** Starts a system forwarding to the given sink ports. */
export type SystemStarter = (sinkPorts: number[]) => Promise<RunningSystem>;

export interface TrialTiming {
	warmupSeconds: number;
	seconds: number;
	pacing: 'frame' | 'even';
}

export interface TrialResult {
	n: number;
	windowSeconds: number;
	/** Input packets the sender sent during the window. */
	inputPackets: number;
	cpuMs: number;
	/** CPU µs per forwarded packet: cpu / (input packets × N). */
	usPerPacket: number;
	coreShare: number;
	/** Per receiver: 100 × (1 − received / expected) over the window, from its sequence numbers. */
	lossWorstPercent: number;
	lossMeanPercent: number;
	/** Packets received in the window over input × N (catches a receiver that got nothing). */
	deliveredPercent: number;
	/** Datagrams the kernel dropped in the sink's own sockets (should be 0). */
	sinkDrops: number;
	/** Sender's worst lateness against the real-time schedule (load on core 0). */
	senderMaxLateMs: number;
	/** Core 1's busy time (/proc/stat, incl. steal) not spent by the system under test, % of the window. */
	otherLoadOnCorePercent: number;
	/** Why the trial does not measure the system alone (other work on the machine), or null. */
	disturbed: string | null;
}

/** Limits beyond which a trial is flagged (and retried by the caller). */
export const DISTURBANCE = { senderLateMs: 25, otherLoadPercent: 10 } as const;

/** Seconds core `cpu` was busy (user, nice, system, irq, softirq, steal) since boot, from /proc/stat (10 ms ticks). */
function coreBusySeconds(cpu: string): number {
	const line = readFileSync('/proc/stat', 'utf8').split('\n').find((l) => l.startsWith(`cpu${cpu} `));
	if (!line) return NaN;
	const [user, nice, system, , , irq, softirq, steal] = line.trim().split(/\s+/).slice(1).map(Number);
	return (user! + nice! + system! + irq! + softirq! + steal!) / 100;
}

interface SinkSummary {
	rcvbuf: number;
	windowStart: number;
	windowEnd: number;
	ports: { port: number; rtcp: number; drops: number; streams: { ssrc: number; pt: number; count: number; windowReceived: number; windowExpected: number }[] }[];
}

interface SenderSummary {
	sent: number;
	errors: number;
	atStart: number;
	atEnd: number;
	maxLateMs: number;
}

/** The system under test runs on this core, the sender and the sink on the other. */
export const SYSTEM_CORE = '1';
export const LOAD_CORE = '0';

/** mediasoup's bandwidth-probation packets (transport-cc) come with this SSRC: not media. */
const PROBATION_SSRC = 1234;

export async function runTrial(tools: NativeTools, dumpFile: string, n: number, timing: TrialTiming, start: SystemStarter): Promise<TrialResult> {
	const scratch = tempDir('fwd-bench-trial-');
	const total = timing.warmupSeconds + timing.seconds;
	const sink = spawnTracked(tools.bin.sink, [String(n), String(total + 60), path.join(scratch, 'sink.json')], { cpus: LOAD_CORE, stdio: ['ignore', 'pipe', 'inherit'] });
	let system: RunningSystem | null = null;
	let sender: ChildProcess | null = null;
	try {
		const ports = JSON.parse(await firstLine(sink, 5000, 'sink')) as number[];
		if (ports.length !== n) throw new Error(`sink opened ${ports.length} ports, not ${n}`);
		system = await start(ports);
		sender = spawnTracked(
			tools.bin.sender,
			['play', dumpFile, String(system.inputPort), String(system.ssrc), String(system.payloadType), String(total + 0.5), timing.pacing, path.join(scratch, 'sender.json')],
			{ cpus: LOAD_CORE, stdio: ['ignore', 'ignore', 'inherit'] },
		);
		await sleep(timing.warmupSeconds * 1000);
		const pid = system.pid;
		const cpuStart = cpuNs(pid);
		const coreStart = coreBusySeconds(SYSTEM_CORE);
		const wallStart = performance.now();
		sender.kill('SIGUSR1');
		sink.kill('SIGUSR1');
		await sleep(timing.seconds * 1000);
		sender.kill('SIGUSR2');
		sink.kill('SIGUSR2');
		const cpuEnd = cpuNs(pid);
		const coreEnd = coreBusySeconds(SYSTEM_CORE);
		const windowSeconds = (performance.now() - wallStart) / 1000;
		if (cpuEnd === 0) throw new Error(`the system under test (pid ${pid}) died during the trial`);
		if (!(await waitExit(sender, 5000))) await stopChild(sender);
		// Let the last forwarded packets arrive, then collect the sink's counts.
		await sleep(300);
		await stopChild(sink, 5000);
		const senderSummary = JSON.parse(readFileSync(path.join(scratch, 'sender.json'), 'utf8')) as SenderSummary;
		const sinkSummary = JSON.parse(readFileSync(path.join(scratch, 'sink.json'), 'utf8')) as SinkSummary;
		if (senderSummary.atStart < 0 || senderSummary.atEnd < 0 || !sinkSummary.windowStart || !sinkSummary.windowEnd) throw new Error('the window marks did not reach the sender or the sink');
		const inputPackets = senderSummary.atEnd - senderSummary.atStart;
		const cpuMs = (cpuEnd - cpuStart) / 1e6;
		const losses: number[] = [];
		let received = 0;
		let sinkDrops = 0;
		for (const port of sinkSummary.ports) {
			sinkDrops += port.drops;
			// The receiver's media stream: its busiest SSRC, probation packets aside.
			const media = port.streams.filter((s) => s.ssrc !== PROBATION_SSRC).sort((a, b) => b.count - a.count)[0];
			const got = media && media.windowReceived > 0 ? media.windowReceived : 0;
			const expected = media && media.windowExpected > 0 ? Math.max(media.windowExpected, got) : 0;
			received += got;
			losses.push(expected > 0 ? 100 * (1 - got / expected) : 100);
		}
		const otherLoadOnCorePercent = Math.max(0, (100 * (coreEnd - coreStart - cpuMs / 1000)) / windowSeconds);
		const disturbed =
			[
				senderSummary.maxLateMs > DISTURBANCE.senderLateMs ? `sender ${senderSummary.maxLateMs.toFixed(0)} ms late (core 0 busy)` : '',
				otherLoadOnCorePercent > DISTURBANCE.otherLoadPercent ? `other work took ${otherLoadOnCorePercent.toFixed(0)} % of core ${SYSTEM_CORE}` : '',
			]
				.filter(Boolean)
				.join(', ') || null;
		return {
			n,
			windowSeconds,
			inputPackets,
			cpuMs,
			usPerPacket: (cpuMs * 1000) / (inputPackets * n),
			coreShare: cpuMs / 1000 / windowSeconds,
			lossWorstPercent: Math.max(...losses),
			lossMeanPercent: losses.reduce((a, b) => a + b, 0) / losses.length,
			deliveredPercent: (100 * received) / (inputPackets * n),
			sinkDrops,
			senderMaxLateMs: senderSummary.maxLateMs,
			otherLoadOnCorePercent,
			disturbed,
		};
	} finally {
		if (sender) await stopChild(sender, 2000);
		await system?.close().catch(() => undefined);
		await stopChild(sink, 2000);
		removeTempDir(scratch);
	}
}
