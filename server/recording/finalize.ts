import { execFile } from 'node:child_process';
import { existsSync, renameSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import type { Logger } from '../logger/index.js';
import type { SigningKey } from '../integrity/index.js';
import { SfuError } from '../protocol/index.js';
import { composeConsult } from './composeConsult.js';
import { MANIFEST_FILE, type ManifestDocument, type SegmentEntry } from './Manifest.js';
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
	/** The composed consult video (RECORDING_COMPOSE); absent when not asked for. */
	composition?: CompositionStatus;
}

export interface CompositionStatus {
	state: 'running' | 'done' | 'failed';
	/** Relative to the recording folder, once done. */
	file?: string;
	durationSec?: number;
	/** Chunks encoded so far, of `chunks`. */
	chunksDone?: number;
	chunks?: number;
	error?: { code: string; message: string };
}

export interface FinalizeOptions {
	/** Also compose the consult video and enter it in the manifest (signed with `key`). */
	compose?: {
		key: SigningKey;
		logger?: Logger;
		/** Aborting kills the composition's ffmpeg (the owner is closing). */
		signal?: AbortSignal;
		/** Handed the background composition, so its owner can wait for it when closing. */
		onStarted?: (composition: Promise<void>) => void;
	};
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
export async function finalizeRecording(
	dir: string,
	doc: Pick<ManifestDocument, 'entries'>,
	ffmpeg: string,
	onProgress: (status: FinalizeStatus) => void,
	options: FinalizeOptions = {},
): Promise<FinalizeStatus> {
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
	// The composition reads the segments, not the remuxed files: it runs whatever
	// became of those, after them and in the background (it can take minutes), so
	// the remuxed files are ready — and the recording manageable — meanwhile.
	if (options.compose && !composing.has(dir)) {
		status.composition = { state: 'running' };
		composing.add(dir);
		const composition = compose(dir, ffmpeg, options.compose, status, onProgress).finally(() => composing.delete(dir));
		options.compose.onStarted?.(composition);
	}
	try {
		onProgress({ ...status, outputs: [...status.outputs] });
	} catch {
		// The status file cannot be written: the returned status still says how it ended.
	}
	return status;
}

/** Recording folders being composed now: one composition per recording at a time. */
const composing = new Set<string>();

async function compose(dir: string, ffmpeg: string, options: NonNullable<FinalizeOptions['compose']>, status: FinalizeStatus, onProgress: (status: FinalizeStatus) => void): Promise<void> {
	const report = (): void => {
		// Deleted meanwhile: nothing to report to (and no folder to recreate).
		if (existsSync(path.join(dir, MANIFEST_FILE))) onProgress({ ...status, outputs: [...status.outputs] });
	};
	try {
		const entry = await composeConsult(dir, {
			ffmpeg,
			key: options.key,
			...(options.signal ? { signal: options.signal } : {}),
			onChunk: (done, total) => {
				status.composition = { state: 'running', chunksDone: done, chunks: total };
				report();
			},
		});
		status.composition = { state: 'done', file: entry.file, durationSec: entry.durationSec };
		options.logger?.info({ file: entry.file, durationSec: entry.durationSec }, 'consult video composed');
	} catch (error) {
		const failure = error instanceof SfuError ? { code: error.code, message: error.message } : { code: 'internal_error', message: (error as Error).message.slice(0, 500) };
		options.logger?.error({ code: failure.code, err: error }, 'composing the consult video failed');
		status.composition = { state: 'failed', error: failure };
	}
	report();
}
