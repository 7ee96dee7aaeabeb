import { existsSync } from 'node:fs';
import path from 'node:path';
import { hashFile, type SigningKey } from '../integrity/index.js';
import { SfuError } from '../protocol/index.js';
import { composeVideo } from './compose.js';
import { planComposition } from './compositionPlan.js';
import { resolveFfprobe } from './ffmpegPath.js';
import { probeSegment } from './Recording.js';
import type { CompositionEntry, SegmentEntry } from './Manifest.js';
import { appendToSealedManifest, readManifest } from './sealedManifest.js';
import { makePrivateDir } from './privateFiles.js';

/** The composed consult video, relative to the recording folder. */
export const COMPOSITION_FILE = 'final/consult.mp4';

export interface ComposeConsultOptions {
	ffmpeg: string;
	key: SigningKey;
	niceness?: number;
	onChunk?: (done: number, total: number) => void;
	/** Aborting kills the running ffmpeg (the server is closing). */
	signal?: AbortSignal;
}

/**
 * Makes final/consult.mp4 from a stopped recording's segments and enters it
 * in the signed manifest with its provenance. Segments whose bytes no longer
 * match the manifest are refused (a composition must not launder tampering).
 * Idempotent: an intact composition already in the manifest is returned as is.
 */
export async function composeConsult(dir: string, options: ComposeConsultOptions): Promise<CompositionEntry> {
	const doc = readManifest(dir);
	if (doc.state === 'recording') throw new SfuError('invalid_state', 'stop the recording first');
	const existing = doc.entries.filter((e): e is CompositionEntry => e.type === 'composition').at(-1);
	if (existing && existsSync(path.join(dir, existing.file)) && (await hashFile(path.join(dir, existing.file))).sha256 === existing.sha256) return existing;

	// A segment whose probe failed while recording (ffprobe timed out on a busy
	// machine) is in the manifest with no duration: probe it again rather than
	// show its minutes as a gap. Its bytes are checked against the manifest below.
	const ffprobe = resolveFfprobe(options.ffmpeg);
	const entries = await Promise.all(
		doc.entries.map(async (entry) => {
			if (entry.type !== 'segment' || (entry.durationSec > 0 && entry.codecs.length > 0) || !existsSync(path.join(dir, entry.file))) return entry;
			const probe = await probeSegment(ffprobe, path.join(dir, entry.file));
			return { ...entry, durationSec: probe.durationSec, codecs: probe.codecs };
		}),
	);
	const plan = planComposition({ ...doc, entries });
	if (plan.chunks.length === 0) throw new SfuError('invalid_state', 'the recording has nothing to compose');
	const bySeq = new Map(doc.entries.filter((e): e is SegmentEntry => e.type === 'segment').map((e) => [e.seq, e]));
	for (const { seq } of plan.madeFrom) {
		const segment = bySeq.get(seq)!;
		const file = path.join(dir, segment.file);
		if (!existsSync(file) || (await hashFile(file)).sha256 !== segment.sha256) {
			throw new SfuError('invalid_state', `segment ${seq} does not match the manifest: run verify-recording`);
		}
	}

	// A second composition (the first was lost or altered) gets its own name: the manifest keeps both entries.
	const file = existing ? COMPOSITION_FILE.replace(/\.mp4$/, `-${doc.entries.length}.mp4`) : COMPOSITION_FILE;
	const output = path.join(dir, file);
	makePrivateDir(path.dirname(output));
	try {
		await composeVideo(plan, { ffmpeg: options.ffmpeg, dir, output, workDir: path.join(path.dirname(dir), `.compose-${path.basename(dir)}`), ...(options.niceness !== undefined ? { niceness: options.niceness } : {}), ...(options.onChunk ? { onChunk: options.onChunk } : {}), ...(options.signal ? { signal: options.signal } : {}) });
	} catch (error) {
		throw new SfuError('media_error', `composing the consult video failed: ${(error as Error).message.slice(0, 300)}`);
	}
	const { sha256, size } = await hashFile(output);
	return appendToSealedManifest(dir, options.key, {
		type: 'composition',
		file,
		sha256,
		size,
		durationSec: plan.durationSec,
		codecs: ['h264', 'aac'],
		width: plan.width,
		height: plan.height,
		createdAt: new Date().toISOString(),
		madeFrom: plan.madeFrom,
	});
}
