import { execFile } from 'node:child_process';
import { renameSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import type { ManifestDocument, SegmentEntry } from './Manifest.js';
import { makePrivateDir, makePrivateFile, writePrivateFile } from './privateFiles.js';

const execFileAsync = promisify(execFile);

export const FINAL_DIR = 'final';

export interface FinalOutput {
	participantId: string;
	/** Relative to the recording folder. */
	file: string;
	segments: number;
	codecs: string[];
}

export interface FinalizeStatus {
	state: 'pending' | 'running' | 'done' | 'failed';
	/** Outputs written so far, of `total`. */
	done: number;
	total: number;
	outputs: FinalOutput[];
	error?: string;
}

/** MP4 holds H.264 (+ opus/AAC); VP8 has no MP4 mapping in ffmpeg, so it goes to WebM — still without re-encoding. */
function containerFor(codecs: string[]): 'mp4' | 'webm' {
	return codecs.every((c) => ['h264', 'opus', 'aac'].includes(c)) ? 'mp4' : 'webm';
}

/**
 * Groups each participant's segments into runs with the same streams (a
 * screen share starting changes them), in manifest order.
 */
export function planOutputs(doc: Pick<ManifestDocument, 'entries'>): { participantId: string; segments: SegmentEntry[] }[] {
	const plans: { participantId: string; segments: SegmentEntry[] }[] = [];
	const last = new Map<string, { participantId: string; segments: SegmentEntry[] }>();
	for (const entry of doc.entries) {
		if (entry.type !== 'segment' || entry.durationSec <= 0) continue;
		const current = last.get(entry.participantId);
		if (current && current.segments[0]!.codecs.join() === entry.codecs.join()) {
			current.segments.push(entry);
		} else {
			const plan = { participantId: entry.participantId, segments: [entry] };
			plans.push(plan);
			last.set(entry.participantId, plan);
		}
	}
	return plans;
}

/**
 * Remuxes each participant's segments into one playable file per stream
 * layout (no re-encode): `final/<participant>-<n>.mp4|webm`. Reports
 * progress through `onProgress`; never touches the segments themselves.
 * Never rejects: a failure (unwritable folder, ffmpeg error, a progress
 * report that cannot be written) ends as `state: 'failed'`.
 */
export async function finalizeRecording(dir: string, doc: Pick<ManifestDocument, 'entries'>, ffmpeg: string, onProgress: (status: FinalizeStatus) => void): Promise<FinalizeStatus> {
	const plans = planOutputs(doc);
	const status: FinalizeStatus = { state: 'running', done: 0, total: plans.length, outputs: [] };
	const finalDir = path.join(dir, FINAL_DIR);
	const counters = new Map<string, number>();
	try {
		makePrivateDir(finalDir);
		onProgress({ ...status });
		for (const plan of plans) {
			const n = (counters.get(plan.participantId) ?? 0) + 1;
			counters.set(plan.participantId, n);
			const codecs = plan.segments[0]!.codecs;
			const name = `${plan.participantId}-${n}.${containerFor(codecs)}`;
			const list = path.join(finalDir, `${plan.participantId}-${n}.concat.txt`);
			writePrivateFile(list, plan.segments.map((s) => `file '${path.join(dir, s.file).replace(/'/g, "'\\''")}'`).join('\n') + '\n');
			const temp = path.join(finalDir, `.${name}`);
			const format = containerFor(codecs);
			await execFileAsync(
				ffmpeg,
				['-hide_banner', '-loglevel', 'error', '-nostdin', '-y', '-f', 'concat', '-safe', '0', '-i', list, '-map', '0', '-c', 'copy', ...(format === 'mp4' ? ['-movflags', '+faststart'] : []), '-f', format, temp],
				{ timeout: 10 * 60_000 },
			);
			makePrivateFile(temp);
			renameSync(temp, path.join(finalDir, name));
			status.outputs.push({ participantId: plan.participantId, file: path.join(FINAL_DIR, name), segments: plan.segments.length, codecs });
			status.done += 1;
			onProgress({ ...status, outputs: [...status.outputs] });
		}
		status.state = 'done';
	} catch (error) {
		status.state = 'failed';
		status.error = (error as Error).message.slice(0, 500);
	}
	try {
		onProgress({ ...status, outputs: [...status.outputs] });
	} catch {
		// The status file cannot be written: the returned status still says how it ended.
	}
	return status;
}
