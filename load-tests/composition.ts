/**
 * What composing a consult costs: CPU-seconds per recorded minute for N
 * synthetic 720p participants, through the recorder's own code path (Matroska
 * segments sealed by ManifestWriter with ffprobe's durations and codecs, then
 * composeConsult, exactly as finalizing a recording does).
 *
 *   npm run bench:composition [-- --participants 2,4 --seconds 60 --segment 60]
 *
 * Inputs: testsrc2 at 1280x720 30 fps in VP8 + a sine tone in Opus (what
 * Chromium sends; 10 s encoded once and looped), cut into segments as the
 * recorder's ffmpeg cuts them. The
 * CPU counted is that of every ffmpeg the composition ran (the children's
 * user + system time this process reaped), not the input generation. Prints
 * one row per participant count; writes load-tests/results/composition.json.
 * Everything it creates lives in one temporary folder, removed at the end.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { hashFile, SigningKey } from '../server/integrity/index.js';
import { composeConsult } from '../server/recording/composeConsult.js';
import { ManifestWriter } from '../server/recording/Manifest.js';
import { probeSegment } from '../server/recording/Recording.js';
import { fmt, writeResult } from './lib/measure.js';

const { values } = parseArgs({
	options: {
		participants: { type: 'string', default: '2,4' },
		seconds: { type: 'string', default: '60' },
		segment: { type: 'string', default: '60' },
	},
});
const counts = values.participants
	.split(',')
	.map(Number)
	.filter((n) => Number.isInteger(n) && n >= 1 && n <= 16);
const seconds = Math.min(600, Math.max(10, Number(values.seconds)));
const segmentSeconds = Math.min(600, Math.max(2, Number(values.segment)));

/** User + system CPU of this process's reaped children, seconds (Linux /proc/self/stat cutime + cstime). */
function childrenCpuSeconds(): number {
	const stat = readFileSync('/proc/self/stat', 'utf8');
	const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
	// Fields 16 and 17 of stat(5); the slice starts at field 3.
	const ticks = Number(fields[13]) + Number(fields[14]);
	return ticks / Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim());
}

interface Row {
	participants: number;
	recordedSeconds: number;
	chunks: number;
	cpuSeconds: number;
	wallSeconds: number;
	cpuSecondsPerRecordedMinute: number;
	/** Below 1: faster than real time on one core. */
	oneCoreRealTimeFactor: number;
}

const scratch = mkdtempSync(path.join(tmpdir(), 'sfu-bench-composition-'));
const rows: Row[] = [];
try {
	const key = SigningKey.loadOrCreate(path.join(scratch, 'key.pem'));
	const maxParticipants = Math.max(...counts);
	// One clip per participant, cut into segments once; every run reuses them.
	const clips: string[] = [];
	for (let p = 0; p < maxParticipants; p++) {
		const dir = path.join(scratch, 'clips', `p${p}`);
		mkdirSync(dir, { recursive: true });
		process.stdout.write(`generating participant ${p + 1}/${maxParticipants} (${seconds} s of 720p VP8 + Opus, a 10 s clip looped)…\n`);
		// 10 s encoded once, looped without re-encoding: generating the inputs must not take longer than measuring.
		const clip = path.join(scratch, 'clips', `p${p}.mkv`);
		execFileSync('ffmpeg', [
			'-hide_banner', '-loglevel', 'error', '-y',
			'-f', 'lavfi', '-i', `testsrc2=s=1280x720:r=30:d=10`,
			'-f', 'lavfi', '-i', `sine=frequency=${300 + 150 * p}:sample_rate=48000:duration=10`,
			'-c:v', 'libvpx', '-deadline', 'realtime', '-cpu-used', '8', '-b:v', '1500k', '-g', '90',
			'-c:a', 'libopus', '-b:a', '32k',
			clip,
		]);
		execFileSync('ffmpeg', [
			'-hide_banner', '-loglevel', 'error', '-y',
			'-stream_loop', String(Math.ceil(seconds / 10)), '-i', clip, '-t', String(seconds),
			'-map', '0', '-c', 'copy',
			'-f', 'segment', '-segment_time', String(segmentSeconds), '-segment_format', 'matroska', '-reset_timestamps', '1',
			path.join(dir, 'r000-%05d.mkv'),
		]);
		clips.push(dir);
	}

	for (const n of counts) {
		const dir = path.join(scratch, `n${n}`);
		mkdirSync(dir, { recursive: true });
		const manifest = new ManifestWriter(dir, { recordingId: `bench-${n}`, roomId: 'bench', consentRequired: false, segmentSeconds }, key);
		const t0 = Date.parse(manifest.document.startedAt);
		for (let p = 0; p < n; p++) {
			const participantId = `bench-participant-${p}`;
			const target = path.join(dir, `p-${participantId}`);
			mkdirSync(target, { recursive: true });
			let offset = 0;
			for (const name of readdirSync(clips[p]!).sort()) {
				const file = path.join(target, name);
				execFileSync('cp', [path.join(clips[p]!, name), file]);
				const probe = await probeSegment('ffprobe', file);
				const { sha256, size } = await hashFile(file);
				manifest.append({
					type: 'segment',
					participantId,
					file: path.relative(dir, file),
					sha256,
					size,
					durationSec: probe.durationSec,
					startedAt: new Date(t0 + offset * 1000).toISOString(),
					partial: false,
					codecs: probe.codecs,
				});
				offset += probe.durationSec;
			}
		}
		manifest.finish('stopped');
		let chunks = 0;
		const cpuBefore = childrenCpuSeconds();
		const wallBefore = performance.now();
		const entry = await composeConsult(dir, { ffmpeg: 'ffmpeg', key, onChunk: (_done, total) => (chunks = total) });
		const wallSeconds = (performance.now() - wallBefore) / 1000;
		const cpuSeconds = childrenCpuSeconds() - cpuBefore;
		const row: Row = {
			participants: n,
			recordedSeconds: entry.durationSec,
			chunks,
			cpuSeconds,
			wallSeconds,
			cpuSecondsPerRecordedMinute: (cpuSeconds / entry.durationSec) * 60,
			oneCoreRealTimeFactor: cpuSeconds / entry.durationSec,
		};
		rows.push(row);
		process.stdout.write(
			`${n} participants at 720p: ${fmt(row.cpuSecondsPerRecordedMinute)} CPU-s per recorded minute (${fmt(cpuSeconds)} CPU-s, ${fmt(wallSeconds)} s wall for ${fmt(entry.durationSec)} s, ${chunks} chunk(s)); ${row.oneCoreRealTimeFactor < 1 ? 'faster' : 'slower'} than real time on one core (×${fmt(row.oneCoreRealTimeFactor, 2)})\n`,
		);
		rmSync(dir, { recursive: true, force: true });
	}
	const file = writeResult('composition.json', { startedAt: new Date().toISOString(), seconds, segmentSeconds, rows });
	process.stdout.write(`wrote ${file}\n`);
} finally {
	rmSync(scratch, { recursive: true, force: true });
}
