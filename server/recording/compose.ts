import { spawn } from 'node:child_process';
import { existsSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Chunk, CompositionPlan, Rect } from './compositionPlan.js';
import { makePrivateDir, makePrivateFile } from './privateFiles.js';

export interface ComposeOptions {
	ffmpeg: string;
	/** Recording folder: the plan's files are relative to it. */
	dir: string;
	/** Output file (absolute); written under a temporary name, then renamed. */
	output: string;
	/** Scratch folder for the chunks (created, then removed); outside the recording folder, so a copy or a verifier never sees half-made files. */
	workDir: string;
	/** Niceness of the ffmpeg runs: composition must never starve live media. Default 10. */
	niceness?: number;
	/** Per ffmpeg run. Default 30 minutes. */
	timeoutMs?: number;
	/** Told after each chunk. */
	onChunk?: (done: number, total: number) => void;
	/** Aborting kills the running ffmpeg and fails the composition (the server is closing). */
	signal?: AbortSignal;
}

const SAMPLE_RATE = 48_000;
const TILE_BACKGROUND = '0x202020';
const CARD_BACKGROUND = '0x303030';

const FONT_FILES = ['/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf', '/usr/share/fonts/dejavu/DejaVuSans.ttf', '/usr/share/fonts/TTF/DejaVuSans.ttf'];

/** drawtext's font: the DejaVu file when installed (fonts-dejavu-core), else whatever fontconfig calls Sans. */
function fontOption(): string {
	const file = FONT_FILES.find((f) => existsSync(f));
	return file ? `fontfile=${file}` : 'font=Sans';
}

/** Only plain words reach drawtext (its text is parsed by two escaping layers). */
function plain(text: string): string {
	return text.replace(/[^A-Za-z0-9 ()+.,-]/g, ' ');
}

function reasonText(reason: string | undefined): string {
	switch (reason) {
		case 'consent_withdrawn':
			return 'not recorded (consent withdrawn)';
		case 'recorder_restarted':
			return 'no media (recorder restarted)';
		default:
			return `no media${reason ? ` (${plain(reason.replace(/_/g, ' '))})` : ''}`;
	}
}

/**
 * The filter graph of one chunk: a canvas with a card per tile (what shows
 * when a tile has no picture: before a key frame, audio only, a gap), each
 * video stream scaled into its tile keeping its aspect, all audio mixed at
 * constant gain (nobody gets louder when someone leaves), the UTC wall clock
 * drawn over it. Exactly `frames` frames and duration × 48 kHz samples.
 */
export function chunkFilterGraph(chunk: Chunk, plan: Pick<CompositionPlan, 'startMs' | 'width' | 'height' | 'fps'>): string {
	const font = fontOption();
	const { width, height, fps } = plan;
	const lines: string[] = [];
	// Places a slice at its offset in the chunk. Not -itsoffset: with -ss, ffmpeg 5.1 counts the offset into -t and cuts the slice short.
	const shift = (input: number, filter: 'setpts' | 'asetpts'): string => {
		const offset = chunk.inputs[input]!.offset;
		if (offset <= 0) return '';
		return filter === 'setpts' ? `,setpts=PTS+${offset.toFixed(3)}/TB` : `asetpts=PTS+${offset.toFixed(3)}/TB,`;
	};
	const text = (value: string, size: number, rect: Rect): string =>
		`drawtext=${font}:text='${value}':fontcolor=white@0.85:fontsize=${size}:x=${rect.x}+(${rect.w}-tw)/2:y=${rect.y}+(${rect.h}-th)/2`;

	const canvas = [`color=c=${chunk.tiles.length === 0 ? CARD_BACKGROUND : 'black'}:s=${width}x${height}:r=${fps}:d=${chunk.duration}`, 'format=yuv420p'];
	if (chunk.tiles.length === 0) canvas.push(text('no media', Math.round(height / 14), { x: 0, y: 0, w: width, h: height }));
	for (const tile of chunk.tiles) {
		const { x, y, w, h } = tile.rect;
		const label = tile.state === 'audio_only' ? 'audio only' : tile.state === 'gap' ? reasonText(tile.reason) : 'no video';
		canvas.push(`drawbox=x=${x + 2}:y=${y + 2}:w=${w - 4}:h=${h - 4}:color=${TILE_BACKGROUND}:t=fill`);
		canvas.push(text(label, Math.max(14, Math.round(h / 16)), tile.rect));
	}
	if (chunk.hiddenTiles > 0) canvas.push(`drawtext=${font}:text='+${chunk.hiddenTiles} more (heard, not shown)':fontcolor=white:fontsize=22:x=w-tw-16:y=16`);
	lines.push(`${canvas.join(',')}[bg]`);

	let base = 'bg';
	let n = 0;
	for (const tile of chunk.tiles) {
		for (const [input, stream] of tile.parts) {
			const { x, y, w, h } = tile.rect;
			// scale first: with -reinit_filter 0 it is the filter that follows a
			// mid-stream resolution change (simulcast layers, screen resizes).
			lines.push(`[${input}:v:${stream}]scale=${w}:${h}:force_original_aspect_ratio=decrease:force_divisible_by=2,setsar=1,pad=${w}:${h}:(ow-iw)/2:(oh-ih)/2:color=black${shift(input, 'setpts')}[t${n}]`);
			// repeat: a stream ending a frame early holds its picture; a later part of the same tile is drawn on top.
			lines.push(`[${base}][t${n}]overlay=x=${x}:y=${y}:eof_action=repeat[o${n}]`);
			base = `o${n}`;
			n += 1;
		}
	}
	const epoch = ((plan.startMs / 1000) + chunk.start).toFixed(3);
	lines.push(
		`[${base}]drawtext=${font}:text='%{pts\\:gmtime\\:${epoch}\\:%Y-%m-%d %H\\\\\\:%M\\\\\\:%S} UTC':fontcolor=white:fontsize=22:box=1:boxcolor=black@0.6:boxborderw=6:x=12:y=h-th-12,trim=end_frame=${chunk.frames}[vout]`,
	);

	const samples = Math.round(chunk.duration * SAMPLE_RATE);
	if (chunk.audio.length === 0) {
		lines.push(`anullsrc=r=${SAMPLE_RATE}:cl=stereo,atrim=end_sample=${samples}[aout]`);
	} else {
		const labels: string[] = [];
		chunk.audio.forEach(([input, stream], i) => {
			// async + first_pts: a slice starting later in the chunk (or with holes) is padded with silence at its place.
			lines.push(`[${input}:a:${stream}]${shift(input, 'asetpts')}aresample=${SAMPLE_RATE}:async=1:first_pts=0,aformat=sample_fmts=fltp:sample_rates=${SAMPLE_RATE}:channel_layouts=stereo[a${i}]`);
			labels.push(`[a${i}]`);
		});
		const mix = labels.length === 1 ? `${labels[0]}anull` : `${labels.join('')}amix=inputs=${labels.length}:duration=longest:normalize=0`;
		lines.push(`${mix},apad,atrim=end_sample=${samples}[aout]`);
	}
	return lines.join(';\n');
}

/** The ffmpeg arguments of one chunk (inputs trimmed with -ss/-t; the graph places them). */
export function chunkArgs(chunk: Chunk, dir: string, scriptFile: string, outFile: string): string[] {
	const args = ['-hide_banner', '-loglevel', 'error', '-nostdin', '-y'];
	for (const input of chunk.inputs) {
		args.push('-reinit_filter', '0');
		if (input.seek > 0) args.push('-ss', input.seek.toFixed(3));
		args.push('-t', input.duration.toFixed(3));
		args.push('-i', path.join(dir, input.file));
	}
	args.push(
		'-filter_complex_script', scriptFile,
		'-map', '[vout]', '-map', '[aout]',
		'-frames:v', String(chunk.frames),
		'-c:v', 'libx264', '-preset', 'veryfast', '-crf', '23', '-pix_fmt', 'yuv420p', '-g', '50',
		// PCM inside the chunks: the audio is encoded once, over the whole timeline, so chunk joins carry no AAC priming gaps.
		'-c:a', 'pcm_s16le', '-ar', String(SAMPLE_RATE), '-ac', '2',
		'-f', 'matroska', outFile,
	);
	return args;
}

/**
 * Encodes the plan chunk by chunk, then joins the chunks (video copied,
 * audio encoded to AAC once) into one fast-start MP4. Every ffmpeg runs
 * niced. The work folder is removed whatever happens.
 */
export async function composeVideo(plan: CompositionPlan, options: ComposeOptions): Promise<void> {
	if (plan.chunks.length === 0) throw new Error('nothing to compose: the recording has no duration');
	const work = options.workDir;
	rmSync(work, { recursive: true, force: true });
	makePrivateDir(work);
	try {
		const list: string[] = [];
		for (const [index, chunk] of plan.chunks.entries()) {
			const name = `chunk-${String(index).padStart(4, '0')}`;
			const script = path.join(work, `${name}.filter`);
			// Not .mkv: the verifier treats every .mkv under a recording as a segment.
			const out = path.join(work, `${name}.chunk`);
			writeFileSync(script, chunkFilterGraph(chunk, plan));
			await runFfmpeg(options, chunkArgs(chunk, options.dir, script, out));
			list.push(`file '${out.replace(/'/g, "'\\''")}'`);
			options.onChunk?.(index + 1, plan.chunks.length);
		}
		const listFile = path.join(work, 'chunks.txt');
		writeFileSync(listFile, `${list.join('\n')}\n`);
		const temp = path.join(work, 'consult.mp4');
		await runFfmpeg(options, [
			'-hide_banner', '-loglevel', 'error', '-nostdin', '-y',
			'-f', 'concat', '-safe', '0', '-i', listFile,
			'-map', '0:v', '-map', '0:a',
			'-c:v', 'copy', '-c:a', 'aac', '-b:a', '128k',
			'-movflags', '+faststart',
			'-f', 'mp4', temp,
		]);
		makePrivateFile(temp);
		renameSync(temp, options.output);
	} finally {
		rmSync(work, { recursive: true, force: true });
	}
}

function runFfmpeg(options: ComposeOptions, args: string[]): Promise<void> {
	return new Promise((resolve, reject) => {
		if (options.signal?.aborted) {
			reject(new Error('composition aborted'));
			return;
		}
		const child = spawn('nice', ['-n', String(options.niceness ?? 10), options.ffmpeg, ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
		// A composition can take minutes: closing the server must not leave its ffmpeg behind.
		const abort = (): void => {
			child.kill('SIGKILL');
		};
		options.signal?.addEventListener('abort', abort, { once: true });
		child.once('close', () => options.signal?.removeEventListener('abort', abort));
		let stderr = '';
		child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
			stderr = (stderr + chunk).slice(-2000);
		});
		const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 30 * 60_000);
		child.once('error', (error) => {
			clearTimeout(timer);
			reject(error);
		});
		child.once('exit', (code, signal) => {
			clearTimeout(timer);
			if (code === 0) resolve();
			else reject(new Error(`ffmpeg exited with ${code ?? signal}: ${stderr.trim().slice(-500)}`));
		});
	});
}
