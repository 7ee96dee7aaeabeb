import { EventEmitter } from 'node:events';
import type { types } from 'mediasoup';
import type { PeerProducer } from '../media/index.js';
import type { Logger } from '../logger/index.js';
import { SfuError } from '../protocol/index.js';
import { FfmpegRun, type SegmentFile } from './FfmpegRun.js';
import { FEED_ADDRESS, RECORDER_ADDRESS, type RecordingPorts } from './ports.js';
import { makePrivateDir } from './privateFiles.js';
import type { RecorderSlots } from './RecorderSlots.js';
import { recordingSdp } from './sdp.js';

export interface ParticipantRecorderOptions {
	ffmpeg: string;
	/** This participant's folder (absolute). */
	dir: string;
	segmentSeconds: number;
	ports: RecordingPorts;
	/** The node-wide cap on recorder ffmpeg processes: one slot while this participant is recorded. */
	slots: RecorderSlots;
	/** Delay before a dead ffmpeg is replaced. Default 500 ms (the target is < 2 s). */
	respawnDelayMs?: number;
	logger: Logger;
}

/** A producer to record and the router it lives on. */
export interface RecordedSource {
	producer: PeerProducer;
	router: types.Router;
	/** Told of the recorder's consumer (a piped producer stays open while it lives). */
	onConsumer?: (consumer: types.Consumer) => void;
}

export type ParticipantRecorderEvents = {
	segment: [segment: SegmentFile, runStartedAt: Date];
	gap: [from: Date, to: Date, reason: string];
	/** Recording this participant cannot go on (disk full, unwritable folder, ffmpeg keeps dying or cannot start). */
	failed: [error: { code: string; message: string }];
	/**
	 * This participant cannot be recorded now for lack of capacity (no recorder
	 * slot, no free port): nothing is written. The recorder has released what it
	 * held; the owner closes it and may try again later.
	 */
	refused: [error: { code: string; message: string }];
	/** The participant's tracks are wired to the recorder: from now on it is recorded whenever it sends. */
	ready: [];
};

interface Track {
	producer: PeerProducer;
	/** Its producer was unpaused at some point while recorded: ffmpeg records it. */
	live: boolean;
	transport: types.PlainTransport;
	consumer: types.Consumer;
	port: number;
}

const MAX_RESTARTS_PER_MINUTE = 5;

/**
 * Records one participant's tracks (audio, camera, screen, device) into one
 * series of Matroska segments: PlainTransport consumers → one supervised
 * ffmpeg. A change of tracks, or a dead ffmpeg, starts a new run of segments.
 */
export class ParticipantRecorder extends EventEmitter<ParticipantRecorderEvents> {
	readonly participantId: string;
	readonly #options: ParticipantRecorderOptions;
	readonly #logger: Logger;
	readonly #tracks = new Map<string, Track>();
	#run: FfmpegRun | null = null;
	#runCount = 0;
	#restarts: number[] = [];
	#keyFrameTimer: NodeJS.Timeout | null = null;
	#boundaryTimer: NodeJS.Timeout | null = null;
	#respawnTimer: NodeJS.Timeout | null = null;
	/** Serializes track changes and restarts. */
	#queue: Promise<void> = Promise.resolve();
	#closed = false;
	#failed = false;
	#hasSlot = false;
	#ready = false;

	constructor(participantId: string, options: ParticipantRecorderOptions) {
		super();
		this.participantId = participantId;
		this.#options = options;
		this.#logger = options.logger;
		makePrivateDir(options.dir);
	}

	get closed(): boolean {
		return this.#closed;
	}

	/**
	 * True once this participant's tracks are wired to the recorder (ports and
	 * a recorder slot held): it is recorded whenever it sends.
	 */
	get ready(): boolean {
		return this.#ready;
	}

	/** The ffmpeg process now recording, if any (tests kill it). */
	get ffmpegPid(): number | undefined {
		return this.#run?.pid;
	}

	/**
	 * Records exactly these sources from now on (restarting ffmpeg if the set
	 * changed). Without a free recorder slot, `refused` is emitted at once.
	 */
	setSources(sources: readonly RecordedSource[]): Promise<void> {
		if (!this.#hasSlot && !this.#closed && !this.#failed && sources.some((s) => !s.producer.closed)) {
			// Taken synchronously: two participants arriving together cannot both get the last slot.
			if (!this.#options.slots.tryAcquire()) {
				this.#refuse({ code: 'recording_capacity', message: `this server runs as many recorders as it may (RECORDING_MAX_FFMPEG ${this.#options.slots.max})` });
				return this.#queue;
			}
			this.#hasSlot = true;
		}
		return this.#enqueue(async () => {
			if (this.#closed || this.#failed) return;
			const wanted = new Map(sources.filter((s) => !s.producer.closed).map((s) => [s.producer.id, s]));
			// Only tracks that are (or were) live change what ffmpeg records.
			let changed = false;
			for (const [id, track] of this.#tracks) {
				if (!wanted.has(id) || track.consumer.closed) {
					this.#closeTrack(track);
					if (track.live) changed = true;
				} else if (!track.live && !track.producer.paused) {
					track.live = true;
					changed = true;
				}
			}
			for (const [id, source] of wanted) {
				if (this.#tracks.has(id)) continue;
				let track: Track;
				try {
					track = await this.#openTrack(source);
				} catch (error) {
					if (error instanceof SfuError && error.code === 'limit_exceeded') {
						this.#refuse({ code: 'recording_capacity', message: error.message });
						return;
					}
					throw error;
				}
				this.#tracks.set(id, track);
				if (track.live) changed = true;
			}
			if (this.#closed || this.#failed) return;
			if (!this.#ready && this.#tracks.size > 0) {
				this.#ready = true;
				this.emit('ready');
			}
			if (changed || !this.#run) await this.#startRun('tracks_changed');
		});
	}

	/** Finishes the current segment and releases everything. Idempotent. */
	close(): Promise<void> {
		if (this.#closed) return this.#queue;
		this.#closed = true;
		return this.#enqueue(async () => {
			this.#clearTimers();
			await this.#run?.stop();
			this.#run = null;
			this.#releaseAll();
		});
	}

	/** Gives back every port and the slot (closing, failed or refused). */
	#releaseAll(): void {
		for (const track of [...this.#tracks.values()]) this.#closeTrack(track);
		this.#tracks.clear();
		if (this.#hasSlot) {
			this.#hasSlot = false;
			// A slot that never ran a recorder frees nothing others wait for:
			// telling them would have refused participants retry each other forever.
			this.#options.slots.release({ quiet: !this.#ready });
		}
	}

	/** Not enough capacity: nothing is written, so nothing may look recorded. */
	#refuse(error: { code: string; message: string }): void {
		this.#failed = true;
		this.#releaseAll();
		this.#logger.warn({ code: error.code }, 'participant cannot be recorded: no capacity');
		this.emit('refused', error);
	}

	#enqueue(task: () => Promise<void>): Promise<void> {
		this.#queue = this.#queue.then(task).catch((error: unknown) => {
			this.#logger.error({ err: error }, 'participant recorder step failed');
		});
		return this.#queue;
	}

	async #openTrack(source: RecordedSource): Promise<Track> {
		const { producer, router } = source;
		const port = await this.#options.ports.acquire();
		let transport: types.PlainTransport | null = null;
		try {
			// Same port number on both loopback addresses: ffmpeg, connected to
			// FEED_ADDRESS:port, takes packets from this socket only. RTCP muxed:
			// the sender reports that align audio and video come the same way.
			transport = await router.createPlainTransport({ listenIp: { ip: FEED_ADDRESS }, port, rtcpMux: true, comedia: false });
			await transport.connect({ ip: RECORDER_ADDRESS, port });
			// Codec only: no RTX, no header extensions — with transport-cc mediasoup
			// would probe ffmpeg's port with padding it cannot parse.
			const codecs = (router.rtpCapabilities.codecs ?? [])
				.filter((c) => c.kind === producer.kind && c.mimeType.toLowerCase() === producer.rtpParameters.codecs[0]!.mimeType.toLowerCase())
				.map((c) => ({ ...c, rtcpFeedback: [] }));
			const consumer = await transport.consume({ producerId: producer.id, rtpCapabilities: { codecs, headerExtensions: [] }, paused: true });
			source.onConsumer?.(consumer);
			return { producer, transport, consumer, port, live: !producer.paused };
		} catch (error) {
			transport?.close();
			this.#options.ports.release(port);
			throw error;
		}
	}

	#closeTrack(track: Track): void {
		this.#tracks.delete(track.producer.id);
		track.transport.close();
		this.#options.ports.release(track.port);
	}

	async #startRun(reason: string): Promise<void> {
		this.#clearTimers();
		const previous = this.#run;
		this.#run = null;
		await previous?.stop();
		if (this.#closed || this.#failed) return;
		// A producer paused since it was created (a camera off from the start)
		// stays out: ffmpeg cannot write a header for a video stream that never
		// sent a frame (no size), exits after probing, and would be restarted in
		// a loop. It joins the run when it first resumes; once in, pausing it
		// again is mere silence.
		const tracks = [...this.#tracks.values()].filter((t) => t.live && !t.consumer.closed);
		if (tracks.length === 0) return;

		const prefix = `r${String(this.#runCount++).padStart(3, '0')}`;
		let run: FfmpegRun;
		try {
			run = new FfmpegRun({
				ffmpeg: this.#options.ffmpeg,
				sdp: recordingSdp(
					tracks.map((t) => ({ kind: t.consumer.kind, port: t.port, rtpParameters: t.consumer.rtpParameters })),
					{ source: FEED_ADDRESS, local: RECORDER_ADDRESS },
				),
				dir: this.#options.dir,
				prefix,
				segmentSeconds: this.#options.segmentSeconds,
				listenAddress: RECORDER_ADDRESS,
				logger: this.#logger.child({ run: prefix }),
			});
		} catch (error) {
			// The SDP could not be written (or built): the participant is not recorded.
			const code = (error as NodeJS.ErrnoException).code === 'ENOSPC' ? 'disk_full' : 'storage_unwritable';
			this.#fail({ code, message: `the recorder cannot start: ${(error as Error).message}`.slice(0, 300) });
			return;
		}
		this.#run = run;
		run.on('segment', (segment) => this.emit('segment', segment, run.startedAt));
		run.on('exit', (code, signal, expected, stderr, failedToStart) => {
			if (failedToStart) {
				if (this.#run === run && !this.#closed) {
					this.#clearTimers();
					this.#run = null;
					this.#fail({ code: 'recorder_failed', message: stderr.slice(0, 300) || 'ffmpeg could not be started' });
				}
				return;
			}
			if (!expected) this.#onUnexpectedExit(run, code, signal, stderr);
		});
		this.#logger.info({ reason, tracks: tracks.length, prefix }, 'recording run started');

		for (const track of tracks) await track.consumer.resume();
		// ffmpeg can write nothing before a key frame: ask until it has one,
		// then at every segment boundary so segments cut on time.
		const video = tracks.filter((t) => t.consumer.kind === 'video').map((t) => t.consumer);
		const askKeyFrames = (): void => {
			for (const consumer of video) if (!consumer.closed) consumer.requestKeyFrame().catch(() => undefined);
		};
		askKeyFrames();
		this.#keyFrameTimer = setInterval(() => {
			if (run.exited || run.writing) {
				if (this.#keyFrameTimer) clearInterval(this.#keyFrameTimer);
				this.#keyFrameTimer = null;
			} else askKeyFrames();
		}, 500);
		// ffmpeg cuts at the first key frame after each boundary of its own
		// (media) clock, which starts a little after ours: ask just after.
		if (video.length > 0) {
			const period = this.#options.segmentSeconds * 1000;
			this.#boundaryTimer = setTimeout(() => {
				askKeyFrames();
				this.#boundaryTimer = setInterval(askKeyFrames, period);
			}, period + 400);
		}
	}

	#onUnexpectedExit(run: FfmpegRun, code: number | null, signal: NodeJS.Signals | null, stderr: string): void {
		if (this.#run !== run || this.#closed) return;
		this.#clearTimers();
		this.#run = null;
		const diedAt = new Date();
		const storage = /No space left on device|Permission denied|Read-only file system|Disk quota exceeded/i.exec(stderr);
		if (storage) {
			const code = /No space|quota/i.test(storage[0]) ? 'disk_full' : 'storage_unwritable';
			this.#fail({ code, message: `the recorder cannot write: ${storage[0]}` });
			return;
		}
		const now = Date.now();
		this.#restarts = [...this.#restarts.filter((t) => now - t < 60_000), now];
		if (this.#restarts.length > MAX_RESTARTS_PER_MINUTE) {
			this.#fail({ code: 'recorder_failed', message: `ffmpeg died ${this.#restarts.length} times within a minute (last: code ${code}, signal ${signal})` });
			return;
		}
		this.#logger.warn({ code, signal, stderr: stderr.slice(-300) }, 'ffmpeg died; starting a new segment run');
		this.#respawnTimer = setTimeout(() => {
			this.#respawnTimer = null;
			void this.#enqueue(async () => {
				await this.#startRun('recorder_restarted');
				this.emit('gap', diedAt, new Date(), 'recorder_restarted');
			});
		}, this.#options.respawnDelayMs ?? 500);
	}

	#fail(error: { code: string; message: string }): void {
		if (this.#failed) return;
		this.#failed = true;
		this.#logger.error({ code: error.code }, 'participant recording failed');
		this.emit('failed', error);
	}

	#clearTimers(): void {
		// clearInterval clears timeouts too.
		for (const timer of [this.#keyFrameTimer, this.#boundaryTimer]) if (timer) clearInterval(timer);
		if (this.#respawnTimer) clearTimeout(this.#respawnTimer);
		this.#keyFrameTimer = this.#boundaryTimer = this.#respawnTimer = null;
	}
}
