/**
 * Benchmark: what forwarding one video stream to N receivers costs our SFU,
 * against Janus and against the physical floor (issue 9, deliverable 4).
 *
 *   npm run bench:forwarding [-- --n 1,10,50,100,200 --seconds 6 --warmup 2 --reps 1
 *                               --systems ours,ours-lean,janus,floor --resolution 1080p|720p
 *                               --pacing even|frame]
 *
 * Input: a pre-encoded H.264 clip (libx264, testsrc2 + noise, 1080p30 ≈ 5 Mbit/s or
 * 720p30 ≈ 2 Mbit/s, Main profile, no B-frames, GOP 60, SPS/PPS before every IDR),
 * packetized to RTP once and cached as a dump (forwarding/rtpDump.ts), replayed in
 * real time by a C sender that loops it seamlessly (SSRC, payload type, sequence
 * numbers and timestamps rewritten). Pacing "even" (default) spreads each frame's
 * packets over the frame interval, as a paced sender does; "frame" sends each frame
 * back-to-back, as ffmpeg and many encoders do: on loopback a 1080p key frame
 * (≈ 170 packets) then arrives within half a millisecond, and the loss it causes at
 * the forwarder's input socket (default 208 KiB buffer in all three systems) is what
 * that mode measures.
 *
 * Systems, each in turn on the same input, for each N (order rotated per repetition):
 *  - ours:      our server's media path in process (forwarding/oursSystem.ts): the
 *               WorkerPool with the server's config defaults, the production router
 *               codecs, the device push-ingest endpoint (IngestStream, as createIngest
 *               opens it), N PlainTransport consumers with the router's full
 *               capabilities (NACK/PLI/FIR, RTX, transport-cc BWE, header extensions);
 *  - ours-lean: the same with codec-only consumers (the like-for-like match for Janus);
 *  - janus:     Janus 1.1.2 VideoRoom, add_remote_publisher + N rtp_forward (forwarding/janus.ts);
 *  - floor:     a C relay doing one sendmmsg() of N datagrams per input packet.
 * The system under test is pinned to core 1 (taskset), the sender, the sink and this
 * process to core 0. All traffic stays on 127.0.0.1.
 *
 * Measures, over a window after the warm-up: the system's CPU time (every thread,
 * /proc/<pid>/task/<tid>/schedstat) per forwarded packet = CPU µs / (input packets in
 * the window × N); loss per receiver from the sink.c counts (per port, per SSRC, from
 * sequence numbers; RTCP and mediasoup's probation SSRC 1234 ignored); the sink's own
 * socket drops (SO_RXQ_OVFL, expected 0). Prints a table of µs/packet and worst loss
 * per N and system (medians over repetitions) and the ratios ours/Janus, ours/floor,
 * ours-lean/Janus, ours-lean/floor; writes load-tests/results/forwarding.json
 * (npm run bench:report charts it).
 *
 * Other work on the machine: a trial is flagged "disturbed" and run again (at most
 * twice) when the sender fell more than 25 ms behind real time (core 0 busy: late
 * packets then arrive in bursts, which lowers the cost per packet and raises loss) or
 * when other work took more than 10 % of core 1 during the window (/proc/stat busy
 * time, steal included, minus the system's own); a "*" in the table marks a median
 * that still includes a disturbed trial. Every trial's details are in the JSON.
 *
 * Caveats: on loopback a forwarder's sendmsg() also runs the receiving side's IP/UDP
 * work (the loopback softirq runs in the sending task and this kernel charges softirq
 * time to it), so every system pays more per copy than with a NIC, all alike: compare
 * ratios, not absolute µs. Neither side pays ICE/DTLS/SRTP here.
 * At N = 1 the cost is mostly one wake-up per input packet and varies most between
 * runs (±30 % here): run --reps 3 for numbers to keep.
 *
 * Bounded and self-cleaning: every trial has a time limit; the C tools stop by
 * themselves after a deadline; every process, temp dir and port the run opens is
 * released at the end, on error and on SIGINT/SIGTERM. The C tools are compiled with
 * gcc into ~/.cache/telehealth-sfu/bench/<hash>/ (only when their sources change);
 * the dumps live in ~/.cache/telehealth-sfu/bench/dumps/. Janus is installed with
 * apt-get (Debian package `janus`) when /usr/bin/janus is missing.
 */
import { execFileSync } from 'node:child_process';
import { cpus, loadavg, release } from 'node:os';
import { parseArgs } from 'node:util';
import { assertWorkerBinary } from '../server/media/index.js';
import { fmt, pin, withTimeout, writeResult } from './lib/measure.js';
import type { ForwardingResult } from './lib/results.js';
import { floorSystem } from './forwarding/floor.js';
import { ensureJanus, janusSystem } from './forwarding/janus.js';
import { buildNativeTools } from './forwarding/native.js';
import { oursSystem } from './forwarding/oursSystem.js';
import { cleanup, cleanupOnSignals, removeStaleTempDirs } from './forwarding/processes.js';
import { prepareDump, RESOLUTIONS, type ResolutionName } from './forwarding/rtpDump.js';
import { DISTURBANCE, LOAD_CORE, runTrial, SYSTEM_CORE, type SystemStarter, type TrialResult } from './forwarding/trial.js';

const SYSTEMS = ['ours', 'ours-lean', 'janus', 'floor'] as const;
type SystemName = (typeof SYSTEMS)[number];

const { values } = parseArgs({
	options: {
		n: { type: 'string', default: '1,10,50,100,200' },
		seconds: { type: 'string', default: '6' },
		warmup: { type: 'string', default: '2' },
		reps: { type: 'string', default: '1' },
		systems: { type: 'string', default: SYSTEMS.join(',') },
		resolution: { type: 'string', default: '1080p' },
		pacing: { type: 'string', default: 'even' },
	},
});

const log = (line: string): void => void process.stdout.write(`${line}\n`);
function fail(message: string): never {
	process.stderr.write(`bench:forwarding: ${message}\n`);
	process.exit(2);
}

const receivers = values.n.split(',').map(Number);
if (receivers.some((n) => !Number.isInteger(n) || n < 1 || n > 500)) fail('--n: comma-separated receiver counts, 1..500');
const seconds = Number(values.seconds);
const warmup = Number(values.warmup);
const reps = Number(values.reps);
if (!(seconds >= 1 && seconds <= 60)) fail('--seconds: 1..60');
if (!(warmup >= 0.5 && warmup <= 30)) fail('--warmup: 0.5..30');
if (!(Number.isInteger(reps) && reps >= 1 && reps <= 10)) fail('--reps: 1..10');
const systems = values.systems.split(',') as SystemName[];
if (systems.length === 0 || systems.some((s) => !SYSTEMS.includes(s))) fail(`--systems: some of ${SYSTEMS.join(',')}`);
if (!(values.resolution in RESOLUTIONS)) fail(`--resolution: ${Object.keys(RESOLUTIONS).join(' | ')}`);
const resolution = values.resolution as ResolutionName;
if (values.pacing !== 'even' && values.pacing !== 'frame') fail('--pacing: even | frame');
const pacing = values.pacing;

const median = (xs: number[]): number => {
	const s = xs.filter(Number.isFinite).sort((a, b) => a - b);
	if (s.length === 0) return NaN;
	return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};
const ratio = (a: number, b: number): number => (Number.isFinite(a) && Number.isFinite(b) && b > 0 ? a / b : NaN);
const short = (v: number): string => (!Number.isFinite(v) ? 'n/a' : v >= 1e5 ? `${(v / 1000).toFixed(0)}k` : v >= 1e4 ? `${(v / 1000).toFixed(1)}k` : v.toFixed(0));

interface TrialRecord extends Partial<TrialResult> {
	system: SystemName;
	n: number;
	rep: number;
	attempts: number;
	error?: string;
}

const MAX_RETRIES = 2;

cleanupOnSignals(log);
removeStaleTempDirs('fwd-bench-');
const started = Date.now();
const trials: TrialRecord[] = [];
try {
	try {
		execFileSync('taskset', ['-V'], { stdio: 'ignore' });
	} catch {
		log('warning: taskset not found: systems run unpinned (apt-get install util-linux)');
	}
	pin(process.pid, LOAD_CORE);
	if (systems.includes('ours') || systems.includes('ours-lean')) assertWorkerBinary();
	const janusBin = systems.includes('janus') ? await ensureJanus(log) : '';
	const tools = buildNativeTools(log);
	const dump = await prepareDump(resolution, tools.bin.sender, log);
	log(
		`input: ${resolution}, ${fmt(dump.mbps, 2)} Mbit/s, ${fmt(dump.packetsPerSecond, 0)} packets/s, ${dump.keyFrames} key frames per ${fmt(dump.loopSeconds, 0)} s loop (largest frame ${dump.maxFramePackets} packets), pacing ${pacing}`,
	);
	log(`${systems.join(', ')} × N = ${receivers.join(', ')} × ${reps} rep(s): ${warmup} s warm-up + ${seconds} s measured each; load average now ${loadavg().map((l) => l.toFixed(2)).join(' ')}`);

	const starters: Record<SystemName, () => SystemStarter> = {
		ours: () => oursSystem('full'),
		'ours-lean': () => oursSystem('lean'),
		janus: () => janusSystem(janusBin),
		floor: () => floorSystem(tools, warmup + seconds + 60),
	};
	for (let rep = 0; rep < reps; rep++) {
		for (const n of receivers) {
			// Interleaved, the order rotated per repetition so no system always runs first.
			const order = systems.map((_, i) => systems[(i + rep) % systems.length]!);
			for (const system of order) {
				// A trial disturbed by other work on the machine is run again, at most twice.
				for (let attempt = 1; attempt <= 1 + MAX_RETRIES; attempt++) {
					try {
						const result = await withTimeout(runTrial(tools, dump.file, n, { warmupSeconds: warmup, seconds, pacing }, starters[system]()), (warmup + seconds + 90) * 1000, `${system} N=${n}`);
						const last = !result.disturbed || attempt > MAX_RETRIES;
						log(
							`  rep ${rep + 1} N=${String(n).padStart(3)} ${system.padEnd(9)} ${fmt(result.usPerPacket, 2).padStart(6)} µs/packet, ${fmt(100 * result.coreShare, 1).padStart(5)} % of a core, ` +
								`loss worst ${fmt(result.lossWorstPercent, 2)} % (delivered ${fmt(result.deliveredPercent, 2)} %${result.sinkDrops ? `, sink drops ${result.sinkDrops}` : ''})` +
								(result.disturbed ? ` DISTURBED: ${result.disturbed}${last ? '' : ', again'}` : ''),
						);
						if (!last) continue;
						trials.push({ system, rep, attempts: attempt, ...result });
					} catch (error) {
						trials.push({ system, n, rep, attempts: attempt, error: (error as Error).message });
						log(`  rep ${rep + 1} N=${String(n).padStart(3)} ${system.padEnd(9)} FAILED: ${(error as Error).message.split('\n')[0]}`);
					}
					break;
				}
			}
		}
	}

	// Medians over repetitions.
	const summary = receivers.map((n) => {
		const per = Object.fromEntries(
			systems.map((system) => {
				const ok = trials.filter((t) => t.system === system && t.n === n && t.error === undefined) as (TrialRecord & TrialResult)[];
				return [
					system,
					{
						trials: ok.length,
						disturbed: ok.filter((t) => t.disturbed).length,
						usPerPacket: median(ok.map((t) => t.usPerPacket)),
						coreShare: median(ok.map((t) => t.coreShare)),
						lossWorstPercent: median(ok.map((t) => t.lossWorstPercent)),
						deliveredPercent: median(ok.map((t) => t.deliveredPercent)),
						inputPacketsPerSecond: median(ok.map((t) => t.inputPackets / t.windowSeconds)),
					},
				];
			}),
		) as Record<SystemName, { trials: number; disturbed: number; usPerPacket: number; coreShare: number; lossWorstPercent: number; deliveredPercent: number; inputPacketsPerSecond: number }>;
		const us = (s: SystemName): number => per[s]?.usPerPacket ?? NaN;
		const inputPps = median(Object.values(per).map((p) => p.inputPacketsPerSecond));
		return {
			n,
			packetsPerSecondOut: inputPps * n,
			systems: per,
			ratios: {
				oursToJanus: ratio(us('ours'), us('janus')),
				oursToFloor: ratio(us('ours'), us('floor')),
				oursLeanToJanus: ratio(us('ours-lean'), us('janus')),
				oursLeanToFloor: ratio(us('ours-lean'), us('floor')),
			},
		};
	});

	log('');
	log(`CPU µs per forwarded packet (median of ${reps}), worst receiver loss in parentheses, ${resolution} ${fmt(dump.mbps, 1)} Mbit/s, system under test on one core:`);
	log(`| N | packets/s out | ${systems.map((s) => `${s} µs (loss %)`).join(' | ')} | ours/Janus | ours/floor | ours-lean/Janus | ours-lean/floor |`);
	log(`|---|---|${systems.map(() => '---|').join('')}---|---|---|---|`);
	for (const row of summary) {
		const cells = systems.map((s) => {
			const p = row.systems[s];
			return p.trials === 0 ? 'failed' : `${fmt(p.usPerPacket, 2)} (${fmt(p.lossWorstPercent, p.lossWorstPercent >= 10 ? 0 : 2)})${p.disturbed ? '*' : ''}`;
		});
		const r = row.ratios;
		log(`| ${row.n} | ${short(row.packetsPerSecondOut)} | ${cells.join(' | ')} | ${fmt(r.oursToJanus, 2)} | ${fmt(r.oursToFloor, 2)} | ${fmt(r.oursLeanToJanus, 2)} | ${fmt(r.oursLeanToFloor, 2)} |`);
	}
	log(`\nshare of one core at the largest N (${receivers.at(-1)}): ${systems.map((s) => `${s} ${fmt(100 * (summary.at(-1)?.systems[s].coreShare ?? NaN), 0)} %`).join(', ')}`);
	if (trials.some((t) => t.disturbed)) log(`* includes a trial still disturbed after ${MAX_RETRIES} retries (sender > ${DISTURBANCE.senderLateMs} ms late, or other work > ${DISTURBANCE.otherLoadPercent} % of core ${SYSTEM_CORE}): the machine was busy`);
	const failed = trials.filter((t) => t.error !== undefined).length;
	if (failed) log(`${failed} trial(s) failed: see "error" in the JSON`);
	const file = writeResult('forwarding.json', {
		date: new Date().toISOString(),
		host: { cpus: cpus().length, model: cpus()[0]?.model, kernel: release(), loadavgAtEnd: loadavg() },
		options: { receivers, seconds, warmup, reps, systems, resolution, pacing },
		input: { ...dump, file: undefined },
		trials,
		summary,
		elapsedSeconds: (Date.now() - started) / 1000,
	} satisfies ForwardingResult);
	log(`written ${file} (${fmt((Date.now() - started) / 1000, 0)} s)`);
	process.exitCode = failed === trials.length ? 1 : 0;
} catch (error) {
	process.stderr.write(`bench:forwarding failed: ${(error as Error).stack ?? String(error)}\n`);
	process.exitCode = 1;
} finally {
	await cleanup();
}
