import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { EventEmitter } from 'node:events';
import { promisify } from 'node:util';
import type { types } from 'mediasoup';
import type { IngestEndpoint } from '../media/index.js';
import type { Logger } from '../logger/index.js';
import type { Peer } from '../rooms/index.js';
import { SfuError, type IngestFailureCode, type NotificationMap } from '../protocol/index.js';
import { EgressProxy } from './EgressProxy.js';
import type { EgressPolicy } from './EgressPolicy.js';
import { ingestInput } from './ingestInput.js';
import { redactSource, resolveInput, type ParsedSource } from './sourceUrl.js';

const execFileAsync = promisify(execFile);

export interface PullIngestOptions {
	id: string;
	name: string;
	source: ParsedSource;
	/** The server-side participant (role device) that carries the producers. */
	peer: Peer;
	ffmpeg: string;
	ffprobe: string;
	/** Where ffmpeg may connect for this source (see EgressPolicy). */
	policy: EgressPolicy;
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

/**
 * What the room is told, per failure code: never ffmpeg's own words, which
 * would say which internal ports are open, what a server answered, or echo a
 * URL with its credentials.
 */
const REASONS: Record<IngestFailureCode, string> = {
	source_forbidden: 'the source’s address is not allowed on this server',
	source_unreachable: 'the source could not be opened',
	source_invalid: 'the source has no video stream',
	ingest_failed: 'the ingest process stopped',
};

/** Proxy settings ffmpeg would otherwise read from the server's environment. */
const PROXY_VARIABLES = /^(https?|all|no|ftp|socks)_proxy$/i;

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
	#proxy: EgressProxy | null = null;
	#failures = 0;
	#closed = false;
	/** Failed for good (a refused destination): no more attempts. */
	#failed = false;

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
		this.#proxy?.close();
		this.#proxy = null;
		this.#setState({ state: 'stopped' });
	}

	get #done(): boolean {
		return this.#closed || this.#failed;
	}

	async #attempt(): Promise<void> {
		if (this.#done) return;
		this.#setState({ state: 'connecting', ...(this.#failures > 0 ? { attempt: this.#failures } : {}) });
		let input: string;
		let env: NodeJS.ProcessEnv;
		try {
			input = await resolveInput(this.#options.source, this.#options.policy);
			env = await this.#childEnv();
		} catch (error) {
			if (error instanceof SfuError && error.code === 'source_forbidden') this.#fail('source_forbidden');
			else this.#retry('source_unreachable', error);
			return;
		}
		if (this.#done) return;
		let probe: Probe;
		try {
			probe = await this.#probe(input, env);
		} catch (error) {
			this.#retry('source_unreachable', error);
			return;
		}
		if (this.#done) return;
		if (!probe.video) {
			this.#retry('source_invalid', null, this.#options.source.kind === 'file');
			return;
		}
		try {
			// SRTP on loopback too: another local process cannot feed this source's stream.
			this.#endpoint ??= await this.#options.peer.createIngest(ingestInput(probe.audio ? ['video', 'audio'] : ['video'], { listenIp: '127.0.0.1', srtp: true }));
		} catch (error) {
			this.#logger.warn({ err: error, ingestId: this.id }, 'ingest endpoint could not be opened');
			this.#fail('ingest_failed');
			return;
		}
		if (this.#done) return;
		this.#spawn(probe, input, env);
	}

	/**
	 * ffmpeg's environment: the server's, without proxy settings (`no_proxy`
	 * would let ffmpeg bypass the checking proxy), plus that proxy for sources
	 * that use it.
	 */
	async #childEnv(): Promise<NodeJS.ProcessEnv> {
		const env = Object.fromEntries(Object.entries(process.env).filter(([name]) => !PROXY_VARIABLES.test(name)));
		if (!this.#options.source.viaProxy) return env;
		if (!this.#proxy) {
			this.#proxy = new EgressProxy(this.#options.policy);
			this.#proxy.on('refused', (code) => {
				if (code !== 'source_forbidden' || this.#done) return;
				this.#logger.warn({ ingestId: this.id }, 'ingest source led to a refused address (redirect, playlist or tunnel): stopped');
				this.#process?.kill('SIGKILL');
				this.#fail('source_forbidden');
			});
		}
		return { ...env, http_proxy: await this.#proxy.url() };
	}

	#spawn(probe: Probe, input: string, env: NodeJS.ProcessEnv): void {
		const { source } = this.#options;
		const endpoint = this.#endpoint!;
		const video = endpoint.streams.find((s) => s.kind === 'video')!;
		const audio = endpoint.streams.find((s) => s.kind === 'audio');
		const copy = probe.video!.codec === 'h264';
		const fps = Math.max(1, Math.round(probe.video!.fps || 30));
		const srtp = endpoint.srtp ? ['-srtp_out_suite', endpoint.srtp.cryptoSuite, '-srtp_out_params', endpoint.srtp.keyBase64] : [];
		const rtp = (stream: IngestEndpoint['streams'][number]) => `${endpoint.srtp ? 'srtp' : 'rtp'}://127.0.0.1:${stream.port}?rtcpport=${stream.rtcpPort}&pkt_size=1200`;
		const args = [
			'-hide_banner', '-loglevel', 'warning', '-nostdin',
			'-protocol_whitelist', source.protocols,
			...(source.live ? ioTimeout(source) : ['-re', '-stream_loop', '-1']),
			'-i', input,
			'-map', '0:v:0',
			// Copy H.264 as it is, repeating SPS/PPS before every key frame
			// (mediasoup only counts an IDR with SPS as a key frame).
			...(copy
				? ['-c:v', 'copy', '-bsf:v', 'h264_mp4toannexb,dump_extra=freq=keyframe']
				: ['-c:v', 'libx264', '-profile:v', 'main', '-bf', '0', '-preset', 'veryfast', '-tune', 'zerolatency', '-g', String(fps), '-b:v', '6M', '-maxrate', '8M', '-bufsize', '4M', '-x264-params', 'repeat-headers=1']),
			'-f', 'rtp', '-payload_type', String(video.payloadType), '-ssrc', String(video.ssrc), ...srtp, rtp(video),
			...(audio && probe.audio
				? ['-map', '0:a:0', '-c:a', 'libopus', '-ar', '48000', '-ac', '2', '-b:a', '64k', '-f', 'rtp', '-payload_type', String(audio.payloadType), '-ssrc', String(audio.ssrc), ...srtp, rtp(audio)]
				: []),
		];
		let child: ChildProcess;
		try {
			child = spawn(this.#options.ffmpeg, args, { stdio: ['ignore', 'ignore', 'pipe'], env });
		} catch (error) {
			// Synchronous spawn failures (a bad argument type, EMFILE…): same as a failed run.
			this.#logger.warn({ err: error, ingestId: this.id }, 'ingest ffmpeg could not be started');
			this.#retry('ingest_failed');
			return;
		}
		this.#process = child;
		let stderr = '';
		child.stderr?.setEncoding('utf8').on('data', (chunk: string) => (stderr = (stderr + chunk).slice(-2000)));
		this.#status.mode = copy ? 'copy' : 'transcode';
		this.#logger.info({ ingestId: this.id, pid: child.pid, mode: this.#status.mode, kind: source.kind }, 'ingest ffmpeg started');
		this.#watchForMedia();
		// A binary that cannot be run (ENOENT, EACCES) reports 'error' and maybe
		// no 'exit'; a process that ran reports 'exit'. Either ends this run, once.
		const ended = (detail: { code?: number | null; signal?: NodeJS.Signals | null; error?: Error }) => {
			if (this.#process !== child) return;
			this.#process = null;
			if (this.#liveTimer) clearInterval(this.#liveTimer);
			this.#liveTimer = null;
			if (this.#done) return;
			const tail = redactSource(stderr.slice(-300), source);
			this.#logger.warn({ ingestId: this.id, code: detail.code, signal: detail.signal, ...(detail.error ? { spawnError: (detail.error as NodeJS.ErrnoException).code ?? detail.error.name } : {}), stderr: tail }, 'ingest ffmpeg exited');
			this.#retry(detail.error ? 'ingest_failed' : 'source_unreachable');
		};
		child.once('error', (error) => ended({ error }));
		child.once('exit', (code, signal) => ended({ code, signal }));
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

	/** Another attempt after a backoff; `error` (ffprobe's, a lookup's) goes to the log only, redacted. */
	#retry(code: IngestFailureCode, error: unknown = null, permanent = false): void {
		if (this.#done) return;
		if (error) this.#logger.warn({ ingestId: this.id, code, detail: redactSource(shortError(error), this.#options.source) }, 'ingest source attempt failed');
		if (permanent) {
			this.#fail(code);
			return;
		}
		this.#failures += 1;
		const base = this.#options.retryDelayMs ?? 1000;
		const delay = Math.min(this.#options.maxRetryDelayMs ?? 30_000, base * 2 ** (this.#failures - 1));
		this.#setState({ state: 'retrying', code, reason: REASONS[code], attempt: this.#failures, retryInMs: delay });
		this.#retryTimer = setTimeout(() => {
			this.#retryTimer = null;
			void this.#attempt();
		}, delay);
	}

	#fail(code: IngestFailureCode): void {
		if (this.#done) return;
		this.#failed = true;
		this.#clearTimers();
		this.#proxy?.close();
		this.#proxy = null;
		this.#setState({ state: 'failed', code, reason: REASONS[code] });
	}

	#setState(next: Omit<PullIngestStatus, 'ingestId' | 'peerId' | 'name' | 'mode'>): void {
		this.#status = { ingestId: this.id, peerId: this.#options.peer.id, name: this.#options.name, ...(this.#status.mode ? { mode: this.#status.mode } : {}), ...next };
		this.#logger.info({ ingestId: this.id, state: next.state, code: next.code, attempt: next.attempt }, 'ingest state');
		this.emit('state', this.status);
	}

	async #probe(input: string, env: NodeJS.ProcessEnv): Promise<Probe> {
		const { source } = this.#options;
		const { stdout } = await execFileAsync(
			this.#options.ffprobe,
			['-v', 'error', '-protocol_whitelist', source.protocols, ...(source.live ? ioTimeout(source) : []), '-show_entries', 'stream=codec_type,codec_name,avg_frame_rate', '-of', 'json', input],
			{ timeout: 15_000, env },
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
