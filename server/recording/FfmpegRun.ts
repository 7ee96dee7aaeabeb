import { spawn, type ChildProcess } from 'node:child_process';
import { EventEmitter } from 'node:events';
import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Logger } from '../logger/index.js';

/** A segment file ffmpeg finished (or left behind when it died). */
export interface SegmentFile {
	/** Absolute path. */
	file: string;
	/** Offsets from the run's start, seconds (from ffmpeg's segment list; partial files: estimated). */
	startOffset: number;
	endOffset: number;
	/** True when ffmpeg died while writing it: readable up to its last flushed cluster. */
	partial: boolean;
}

export interface FfmpegRunOptions {
	ffmpeg: string;
	sdp: string;
	/** Folder the segments and the SDP go to. */
	dir: string;
	/** File name prefix, unique per run: `<prefix>-00000.mkv`, … */
	prefix: string;
	segmentSeconds: number;
	logger: Logger;
}

export type FfmpegRunEvents = {
	segment: [segment: SegmentFile];
	/** ffmpeg exited; `expected` is false unless stop() asked it to. */
	exit: [code: number | null, signal: NodeJS.Signals | null, expected: boolean, stderrTail: string];
};

const POLL_MS = 250;
const STOP_TIMEOUT_MS = 5000;

/**
 * One ffmpeg process receiving RTP (described by an SDP) and writing
 * crash-safe Matroska segments: flushed every packet, one cluster per second,
 * so a SIGKILL loses about a second at most.
 */
export class FfmpegRun extends EventEmitter<FfmpegRunEvents> {
	readonly startedAt = new Date();
	readonly #options: FfmpegRunOptions;
	readonly #process: ChildProcess;
	readonly #listFile: string;
	readonly #reported = new Set<string>();
	#stderr = '';
	#stopping = false;
	#exited = false;
	readonly #poller: NodeJS.Timeout;
	readonly #exitPromise: Promise<void>;

	constructor(options: FfmpegRunOptions) {
		super();
		this.#options = options;
		const sdpFile = path.join(options.dir, `${options.prefix}.sdp`);
		this.#listFile = path.join(options.dir, `${options.prefix}.segments.csv`);
		writeFileSync(sdpFile, options.sdp);
		const args = [
			'-hide_banner',
			'-loglevel', 'warning',
			'-nostdin',
			'-protocol_whitelist', 'file,udp,rtp',
			'-fflags', '+genpts',
			'-i', sdpFile,
			'-map', '0',
			'-c', 'copy',
			'-f', 'segment',
			'-segment_time', String(options.segmentSeconds),
			'-segment_format', 'matroska',
			'-segment_format_options', 'flush_packets=1:cluster_time_limit=1000',
			'-reset_timestamps', '1',
			'-segment_list', this.#listFile,
			'-segment_list_type', 'csv',
			path.join(options.dir, `${options.prefix}-%05d.mkv`),
		];
		this.#process = spawn(options.ffmpeg, args, { stdio: ['ignore', 'ignore', 'pipe'] });
		this.#process.stderr!.setEncoding('utf8').on('data', (chunk: string) => {
			this.#stderr = (this.#stderr + chunk).slice(-4000);
		});
		this.#exitPromise = new Promise((resolve) => {
			this.#process.once('exit', (code, signal) => {
				this.#exited = true;
				clearInterval(this.#poller);
				this.#collect(true);
				options.logger.info({ pid: this.#process.pid, code, signal, expected: this.#stopping }, 'ffmpeg exited');
				this.emit('exit', code, signal, this.#stopping, this.#stderr);
				resolve();
			});
			this.#process.once('error', (error) => {
				options.logger.error({ err: error }, 'ffmpeg failed to start');
			});
		});
		this.#poller = setInterval(() => this.#collect(false), POLL_MS);
		options.logger.info({ pid: this.#process.pid, prefix: options.prefix }, 'ffmpeg started');
	}

	get pid(): number | undefined {
		return this.#process.pid;
	}

	get exited(): boolean {
		return this.#exited;
	}

	/** True once ffmpeg has written the first bytes of a segment (it had a key frame). */
	get writing(): boolean {
		return this.#segmentFiles().some((file) => statSync(file).size > 0);
	}

	/** Asks ffmpeg to finish its segment and exit (SIGINT), SIGKILL if it will not. */
	async stop(): Promise<void> {
		if (this.#exited) return;
		this.#stopping = true;
		this.#process.kill('SIGINT');
		const timer = setTimeout(() => this.#process.kill('SIGKILL'), STOP_TIMEOUT_MS);
		await this.#exitPromise;
		clearTimeout(timer);
	}

	/** Reports segments ffmpeg listed as complete; on exit, also the unlisted (partial) ones. */
	#collect(final: boolean): void {
		let listed: SegmentFile[] = [];
		try {
			listed = readFileSync(this.#listFile, 'utf8')
				.split('\n')
				.filter(Boolean)
				.map((line) => {
					const [name, start, end] = line.split(',');
					return { file: path.join(this.#options.dir, name!), startOffset: Number(start), endOffset: Number(end), partial: false };
				});
		} catch {
			// No segment finished yet.
		}
		for (const segment of listed) this.#report(segment);
		if (!final) return;
		const lastEnd = listed.at(-1)?.endOffset ?? 0;
		for (const file of this.#segmentFiles()) {
			if (this.#reported.has(file) || statSync(file).size === 0) continue;
			const elapsed = (Date.now() - this.startedAt.getTime()) / 1000;
			this.#report({ file, startOffset: lastEnd, endOffset: Math.max(lastEnd, elapsed), partial: true });
		}
	}

	#report(segment: SegmentFile): void {
		if (this.#reported.has(segment.file)) return;
		this.#reported.add(segment.file);
		this.emit('segment', segment);
	}

	#segmentFiles(): string[] {
		const prefix = `${this.#options.prefix}-`;
		return readdirSync(this.#options.dir)
			.filter((name) => name.startsWith(prefix) && name.endsWith('.mkv'))
			.sort()
			.map((name) => path.join(this.#options.dir, name));
	}
}
