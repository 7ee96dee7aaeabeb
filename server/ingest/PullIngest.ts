import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { EventEmitter } from 'node:events';
import { promisify } from 'node:util';
import type { types } from 'mediasoup';
import type { IngestEndpoint } from '../media/index.js';
import type { Logger } from '../logger/index.js';
import type { Peer } from '../rooms/index.js';
import type { NotificationMap } from '../protocol/index.js';
import { ingestInput } from './ingestInput.js';
import type { ParsedSource } from './sourceUrl.js';

const execFileAsync = promisify(execFile);

export interface PullIngestOptions {
	id: string;
	name: string;
	source: ParsedSource;
	/** The server-side participant (role device) that carries the producers. */
	peer: Peer;
	ffmpeg: string;
	ffprobe: string;
	/** First retry delay; doubles up to `maxRetryDelayMs`. Default 1000. */
	retryDelayMs?: number;
	/** Default 30000. */
	maxRetryDelayMs?: number;
	logger: Logger;
}

/** What the protocol's `ingestState` says, plus how the video is forwarded. */
export type PullIngestStatus = NotificationMap['ingestState'] & {
	/** Whether video is forwarded as it comes (H.264) or transcoded. */
	mode?: 'copy' | 'transcode';
};

export type PullIngestEvents = {
	state: [status: PullIngestStatus];
};

interface Probe {
	video: { codec: string; fps: number } | null;
	audio: { codec: string } | null;
}

/** How long media may be missing before ffmpeg gives up on a network source, µs. */
const IO_TIMEOUT_US = '5000000';
const LIVE_CHECK_MS = 500;

/**
 * A pulled device source: a supervised ffmpeg that repacketizes H.264 into
 * RTP without re-encoding (transcoding only what is not H.264 / opus), into
 * the device peer's ingest endpoint. Retries with backoff when the source
 * drops; reports connecting → live → retrying → live … or failed.
 */
export class PullIngest extends EventEmitter<PullIngestEvents> {
	readonly id: string;
	readonly #options: PullIngestOptions;
	readonly #logger: Logger;
	#status: PullIngestStatus;
	#endpoint: IngestEndpoint | null = null;
	#process: ChildProcess | null = null;
	#retryTimer: NodeJS.Timeout | null = null;
	#liveTimer: NodeJS.Timeout | null = null;
	#failures = 0;
	#closed = false;

	constructor(options: PullIngestOptions) {
		super();
		this.id = options.id;
		this.#options = options;
		this.#logger = options.logger;
		this.#status = { ingestId: options.id, peerId: options.peer.id, name: options.name, state: 'connecting' };
	}

	get status(): PullIngestStatus {
		return { ...this.#status };
	}

	/** The ffmpeg pid, while one runs (diagnostics and tests). */
	get ffmpegPid(): number | undefined {
		return this.#process?.pid;
	}

	start(): void {
		void this.#attempt();
	}

	/** Stops ffmpeg and retries; the caller removes the device peer. Idempotent. */
	close(): void {
		if (this.#closed) return;
		this.#closed = true;
		this.#clearTimers();
		this.#process?.kill('SIGKILL');
		this.#process = null;
		this.#setState({ state: 'stopped' });
	}

	async #attempt(): Promise<void> {
		if (this.#closed) return;
		this.#setState({ state: 'connecting', ...(this.#failures > 0 ? { attempt: this.#failures } : {}) });
		let probe: Probe;
		try {
			probe = await this.#probe();
		} catch (error) {
			this.#retry(`cannot open the source: ${shortError(error)}`);
			return;
		}
		if (this.#closed) return;
		if (!probe.video) {
			this.#retry('the source has no video stream', this.#options.source.kind === 'file');
			return;
		}
		try {
			this.#endpoint ??= await this.#options.peer.createIngest(ingestInput(probe.audio ? ['video', 'audio'] : ['video'], { listenIp: '127.0.0.1', srtp: false }));
		} catch (error) {
			this.#fail(`cannot open the ingest endpoint: ${shortError(error)}`);
			return;
		}
		if (this.#closed) return;
		this.#spawn(probe);
	}

	#spawn(probe: Probe): void {
		const { source } = this.#options;
		const endpoint = this.#endpoint!;
		const video = endpoint.streams.find((s) => s.kind === 'video')!;
		const audio = endpoint.streams.find((s) => s.kind === 'audio');
		const copy = probe.video!.codec === 'h264';
		const fps = Math.max(1, Math.round(probe.video!.fps || 30));
		const rtp = (stream: IngestEndpoint['streams'][number]) => `rtp://127.0.0.1:${stream.port}?rtcpport=${stream.rtcpPort}&pkt_size=1200`;
		const args = [
			'-hide_banner', '-loglevel', 'warning', '-nostdin',
			'-protocol_whitelist', source.protocols,
			...(source.live ? ioTimeout(source) : ['-re', '-stream_loop', '-1']),
			'-i', source.input,
			'-map', '0:v:0',
			// Copy H.264 as it is, repeating SPS/PPS before every key frame
			// (mediasoup only counts an IDR with SPS as a key frame).
			...(copy
				? ['-c:v', 'copy', '-bsf:v', 'h264_mp4toannexb,dump_extra=freq=keyframe']
				: ['-c:v', 'libx264', '-profile:v', 'main', '-bf', '0', '-preset', 'veryfast', '-tune', 'zerolatency', '-g', String(fps), '-b:v', '6M', '-maxrate', '8M', '-bufsize', '4M', '-x264-params', 'repeat-headers=1']),
			'-f', 'rtp', '-payload_type', String(video.payloadType), '-ssrc', String(video.ssrc), rtp(video),
			...(audio && probe.audio
				? ['-map', '0:a:0', '-c:a', 'libopus', '-ar', '48000', '-ac', '2', '-b:a', '64k', '-f', 'rtp', '-payload_type', String(audio.payloadType), '-ssrc', String(audio.ssrc), rtp(audio)]
				: []),
		];
		const child = spawn(this.#options.ffmpeg, args, { stdio: ['ignore', 'ignore', 'pipe'] });
		this.#process = child;
		let stderr = '';
		child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr = (stderr + chunk).slice(-2000)));
		this.#status.mode = copy ? 'copy' : 'transcode';
		this.#logger.info({ ingestId: this.id, pid: child.pid, mode: this.#status.mode, kind: source.kind }, 'ingest ffmpeg started');
		this.#watchForMedia();
		child.once('exit', (code, signal) => {
			if (this.#process !== child) return;
			this.#process = null;
			if (this.#liveTimer) clearInterval(this.#liveTimer);
			this.#liveTimer = null;
			if (this.#closed) return;
			this.#logger.warn({ ingestId: this.id, code, signal, stderr: stderr.slice(-300) }, 'ingest ffmpeg exited');
			this.#retry(lastLine(stderr) || `ffmpeg exited (${signal ?? code})`);
		});
	}

	/**
	 * Live means RTP really arrives, not just that ffmpeg runs: the device's
	 * video producer (whichever it is now: a restart may reopen it) gains bytes.
	 */
	#watchForMedia(): void {
		let last: { id: string; bytes: number } | null = null;
		this.#liveTimer = setInterval(() => {
			const peer = this.#options.peer;
			const producer = peer.hasMedia ? [...peer.media.producers.values()].find((p) => p.kind === 'video') : undefined;
			if (!producer) return;
			producer
				.getStats()
				.then((stats: types.ProducerStat[]) => {
					const bytes = stats.reduce((sum, s) => sum + s.byteCount, 0);
					const grew = last !== null && last.id === producer.id && bytes > last.bytes;
					last = { id: producer.id, bytes };
					if (grew && this.#status.state !== 'live' && !this.#closed) {
						this.#failures = 0;
						this.#setState({ state: 'live' });
						// Once live, only ffmpeg exiting changes the state: stop polling.
						if (this.#liveTimer) clearInterval(this.#liveTimer);
						this.#liveTimer = null;
					}
				})
				.catch(() => undefined);
		}, LIVE_CHECK_MS);
	}

	#retry(reason: string, permanent = false): void {
		if (this.#closed) return;
		if (permanent) {
			this.#fail(reason);
			return;
		}
		this.#failures += 1;
		const base = this.#options.retryDelayMs ?? 1000;
		const delay = Math.min(this.#options.maxRetryDelayMs ?? 30_000, base * 2 ** (this.#failures - 1));
		this.#setState({ state: 'retrying', reason, attempt: this.#failures, retryInMs: delay });
		this.#retryTimer = setTimeout(() => {
			this.#retryTimer = null;
			void this.#attempt();
		}, delay);
	}

	#fail(reason: string): void {
		this.#clearTimers();
		this.#setState({ state: 'failed', reason });
	}

	#setState(next: Omit<PullIngestStatus, 'ingestId' | 'peerId' | 'name' | 'mode'>): void {
		this.#status = { ingestId: this.id, peerId: this.#options.peer.id, name: this.#options.name, ...(this.#status.mode ? { mode: this.#status.mode } : {}), ...next };
		this.#logger.info({ ingestId: this.id, state: next.state, reason: next.reason, attempt: next.attempt }, 'ingest state');
		this.emit('state', this.status);
	}

	async #probe(): Promise<Probe> {
		const { source } = this.#options;
		const { stdout } = await execFileAsync(
			this.#options.ffprobe,
			['-v', 'error', '-protocol_whitelist', source.protocols, ...(source.live ? ioTimeout(source) : []), '-show_entries', 'stream=codec_type,codec_name,avg_frame_rate', '-of', 'json', source.input],
			{ timeout: 15_000 },
		);
		const streams = (JSON.parse(stdout) as { streams?: { codec_type?: string; codec_name?: string; avg_frame_rate?: string }[] }).streams ?? [];
		const video = streams.find((s) => s.codec_type === 'video');
		const audio = streams.find((s) => s.codec_type === 'audio');
		const [num, den] = (video?.avg_frame_rate ?? '30/1').split('/').map(Number);
		return {
			video: video ? { codec: video.codec_name ?? 'unknown', fps: den ? num! / den : 30 } : null,
			audio: audio ? { codec: audio.codec_name ?? 'unknown' } : null,
		};
	}

	#clearTimers(): void {
		if (this.#retryTimer) clearTimeout(this.#retryTimer);
		if (this.#liveTimer) clearInterval(this.#liveTimer);
		this.#retryTimer = this.#liveTimer = null;
	}
}

/** How each protocol is told to give up on a silent source (option names differ). */
function ioTimeout(source: ParsedSource): string[] {
	return source.kind === 'http' ? ['-rw_timeout', IO_TIMEOUT_US] : ['-timeout', IO_TIMEOUT_US];
}

function shortError(error: unknown): string {
	const text = (error as { stderr?: string }).stderr || (error as Error).message || String(error);
	return lastLine(text).slice(0, 200);
}

function lastLine(text: string): string {
	return text.trim().split('\n').at(-1)?.trim() ?? '';
}
