import { spawn, type ChildProcess } from 'node:child_process';
import { EventEmitter } from 'node:events';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import type { Logger } from '../logger/index.js';
import { makePrivateFile, writePrivateFile } from './privateFiles.js';

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
	/** Local address ffmpeg binds its RTP/RTCP sockets to (loopback: see ports.ts). */
	listenAddress: string;
	logger: Logger;
}

export type FfmpegRunEvents = {
	segment: [segment: SegmentFile];
	/**
	 * ffmpeg exited; `expected` is false unless stop() asked it to.
	 * `failedToStart`: it never ran (binary missing or not executable).
	 */
	exit: [code: number | null, signal: NodeJS.Signals | null, expected: boolean, stderrTail: string, failedToStart: boolean];
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
	readonly #process: ChildProcess | null;
	readonly #listFile: string;
	readonly #reported = new Set<string>();
	/** Files already made 0600. */
	readonly #private = new Set<string>();
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
		writePrivateFile(sdpFile, options.sdp);
		const args = [
			'-hide_banner',
			'-loglevel', 'warning',
			'-nostdin',
			'-protocol_whitelist', 'file,udp,rtp',
			// Bind to loopback only, and connect each socket to the worker's
			// side (the SDP's c= address and port): packets from any other
			// socket never reach ffmpeg. RTCP comes muxed on the RTP port;
			// receiver reports go only where RTCP came from (nowhere), so no
			// ICMP error ever lands on the connected sockets.
			'-localaddr', options.listenAddress,
			'-sdp_flags', 'filter_src+rtcp_to_source',
			// Default 10 s: with no packet for that long (everyone muted, or
			// a paused producer from the start) ffmpeg gives up and exits, and
			// the recorder would restart it in a loop. Silence is not a failure.
			'-listen_timeout', '-1',
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
		let resolveExit!: () => void;
		this.#exitPromise = new Promise((resolve) => (resolveExit = resolve));
		const onExit = (code: number | null, signal: NodeJS.Signals | null, failedToStart: boolean): void => {
			if (this.#exited) return;
			this.#exited = true;
			clearInterval(this.#poller);
			try {
				this.#collect(true);
			} catch (error) {
				options.logger.error({ err: error }, 'cannot collect the segments of an exited ffmpeg');
			}
			options.logger.info({ pid: this.#process?.pid, code, signal, expected: this.#stopping, failedToStart }, 'ffmpeg exited');
			this.emit('exit', code, signal, this.#stopping, this.#stderr, failedToStart);
			resolveExit();
		};
		this.#poller = setInterval(() => {
			try {
				// Also makes a segment being written 0600 at once.
				this.#segmentFiles();
				this.#collect(false);
			} catch (error) {
				options.logger.warn({ err: error }, 'cannot read the recorder folder');
			}
		}, POLL_MS);
		try {
			this.#process = spawn(options.ffmpeg, args, { stdio: ['ignore', 'ignore', 'pipe'] });
		} catch (error) {
			// spawn() throws for some failures (bad arguments, EMFILE) instead of emitting 'error'.
			this.#process = null;
			this.#stderr = `cannot start ffmpeg: ${(error as Error).message}`;
			options.logger.error({ err: error }, 'ffmpeg failed to start');
			setImmediate(() => onExit(null, null, true));
			return;
		}
		const child = this.#process;
		child.stderr!.setEncoding('utf8').on('data', (chunk: string) => {
			this.#stderr = (this.#stderr + chunk).slice(-4000);
		});
		child.once('exit', (code, signal) => onExit(code, signal, false));
		// A binary that is missing or not executable emits 'error' and never
		// 'exit': without this, stop() would wait forever. 'error' also comes
		// when a kill fails, which changes nothing here.
		child.on('error', (error) => {
			if (child.pid !== undefined) {
				options.logger.warn({ err: error }, 'ffmpeg process error');
				return;
			}
			this.#stderr = `cannot start ffmpeg: ${(error as NodeJS.ErrnoException).code ?? error.message}`;
			options.logger.error({ err: error }, 'ffmpeg failed to start');
			onExit(null, null, true);
		});
		options.logger.info({ pid: child.pid, prefix: options.prefix }, 'ffmpeg started');
	}

	get pid(): number | undefined {
		return this.#process?.pid;
	}

	get exited(): boolean {
		return this.#exited;
	}

	/** True once ffmpeg has written the first bytes of a segment (it had a key frame). */
	get writing(): boolean {
		return this.#segmentFiles().some((file) => sizeOf(file) > 0);
	}

	/** Asks ffmpeg to finish its segment and exit (SIGINT), SIGKILL if it will not. */
	async stop(): Promise<void> {
		if (this.#exited) return;
		this.#stopping = true;
		const child = this.#process;
		if (child?.pid === undefined) {
			// Not started (yet): its 'error' settles the exit promise.
			await this.#exitPromise;
			return;
		}
		child.kill('SIGINT');
		const timer = setTimeout(() => child.kill('SIGKILL'), STOP_TIMEOUT_MS);
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
			if (this.#reported.has(file) || sizeOf(file) === 0) continue;
			const elapsed = (Date.now() - this.startedAt.getTime()) / 1000;
			this.#report({ file, startOffset: lastEnd, endOffset: Math.max(lastEnd, elapsed), partial: true });
		}
	}

	#report(segment: SegmentFile): void {
		if (this.#reported.has(segment.file)) return;
		this.#reported.add(segment.file);
		makePrivateFile(segment.file);
		this.emit('segment', segment);
	}

	/** This run's segment files; each made 0600 as soon as it is seen (ffmpeg creates them with the umask). */
	#segmentFiles(): string[] {
		const prefix = `${this.#options.prefix}-`;
		let names: string[];
		try {
			names = readdirSync(this.#options.dir);
		} catch {
			return [];
		}
		const files = names
			.filter((name) => name.startsWith(prefix) && name.endsWith('.mkv'))
			.sort()
			.map((name) => path.join(this.#options.dir, name));
		for (const file of files) {
			if (this.#private.has(file)) continue;
			makePrivateFile(file);
			this.#private.add(file);
		}
		if (!this.#private.has(this.#listFile) && names.includes(path.basename(this.#listFile))) {
			makePrivateFile(this.#listFile);
			this.#private.add(this.#listFile);
		}
		return files;
	}
}

function sizeOf(file: string): number {
	try {
		return statSync(file).size;
	} catch {
		return 0;
	}
}
