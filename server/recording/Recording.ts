import { EventEmitter } from 'node:events';
import { execFile } from 'node:child_process';
import { rmSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { hashFile, type SigningKey } from '../integrity/index.js';
import type { Logger } from '../logger/index.js';
import type { Peer, Room, RoomCloseReason } from '../rooms/index.js';
import type { NotificationMap } from '../protocol/index.js';
import type { SegmentFile } from './FfmpegRun.js';
import { ManifestWriter, type ManifestDocument } from './Manifest.js';
import { ParticipantRecorder, type RecordedSource } from './ParticipantRecorder.js';
import type { RecordingPorts } from './ports.js';
import { makePrivateDir } from './privateFiles.js';
import type { RecorderSlots } from './RecorderSlots.js';

const execFileAsync = promisify(execFile);

export interface RecordingOptions {
	id: string;
	room: Room;
	/** Folder of this recording (created). */
	dir: string;
	consentRequired: boolean;
	segmentSeconds: number;
	ffmpeg: string;
	ffprobe: string;
	ports: RecordingPorts;
	/** The node-wide cap on recorder processes. */
	slots: RecorderSlots;
	key: SigningKey;
	/** People (by `sub`) who consented already: a recording continuing one that moved from a stopped node. */
	consents?: readonly string[];
	/** The recording this one continues (see ManifestDocument.continuesFrom). */
	continuesFrom?: string;
	/** In a cluster: every state change also goes to the room's other nodes (and late joiners there). */
	publish?: (state: NotificationMap['recordingState']) => void;
	logger: Logger;
}

export type RecordingEvents = {
	/** Who is recorded changed, or the recording stopped or failed. */
	statechange: [state: NotificationMap['recordingState']];
	/** A segment was sealed into the manifest (bytes: its size). */
	segment: [bytes: number];
	/** An ffmpeg died and was replaced. */
	recorderrestart: [];
	close: [];
};

/** A worker died under the room: the recording ends here, and everyone must know. */
const INTERRUPTED = {
	code: 'recording_interrupted',
	message: 'a media process of the server failed and the recording stopped; what was recorded until then is kept',
};

/**
 * One room's recording: a recorder per recorded participant, the signed
 * manifest, consent, and the notifications every participant must get.
 */
export class Recording extends EventEmitter<RecordingEvents> {
	readonly id: string;
	readonly roomId: string;
	readonly consentRequired: boolean;
	readonly room: Room;
	readonly #options: RecordingOptions;
	readonly #logger: Logger;
	readonly #manifest: ManifestWriter;
	readonly #recorders = new Map<string, ParticipantRecorder>();
	/** Consents by `sub`: a person consents, whichever connection (or node) they come back through. */
	readonly #consents = new Set<string>();
	readonly #roomListeners: [string, (...args: never[]) => void][] = [];
	/** Manifest appends happen in order, one at a time. */
	#sealing: Promise<void> = Promise.resolve();
	#error: { code: string; message: string } | null = null;
	#notice: { code: string; message: string } | null = null;
	#stopping: Promise<void> | null = null;
	/** Participants that cannot be recorded for lack of capacity (ports, RECORDING_MAX_FFMPEG). */
	readonly #refused = new Map<string, { code: string; message: string }>();
	readonly #onSlotFreed = (): void => this.#retryRefused();

	constructor(options: RecordingOptions) {
		super();
		this.id = options.id;
		this.roomId = options.room.id;
		this.room = options.room;
		this.consentRequired = options.consentRequired;
		this.#options = options;
		this.#logger = options.logger;
		makePrivateDir(options.dir);
		for (const sub of options.consents ?? []) this.#consents.add(sub);
		this.#manifest = new ManifestWriter(
			options.dir,
			{ recordingId: this.id, roomId: this.roomId, consentRequired: this.consentRequired, segmentSeconds: options.segmentSeconds, ...(options.continuesFrom ? { continuesFrom: options.continuesFrom } : {}) },
			options.key,
		);
		const room = options.room;
		const follow = <E extends 'producernew' | 'producerclose' | 'producerresume' | 'mirrorupdate' | 'peerleft'>(event: E, listener: (peer: Peer) => void): void => {
			room.observer.on(event, listener as never);
			this.#roomListeners.push([event, listener]);
		};
		follow('producernew', (peer) => this.#syncPeer(peer));
		follow('producerclose', (peer) => this.#syncPeer(peer));
		// A producer paused from the start joins the recorder when it first resumes.
		follow('producerresume', (peer) => this.#syncPeer(peer));
		// Participants of other nodes: their tracks are piped here and recorded alike.
		follow('mirrorupdate', (peer) => this.#syncPeer(peer));
		follow('peerleft', (peer) => {
			this.#refused.delete(peer.id);
			void this.#dropPeer(peer.id);
		});
		// A worker died under the room (`media_failure`): its clients are about
		// to be dropped and rejoin a rebuilt room, which this recording does not
		// follow. Tell them now, while they are still connected (after 'close'
		// nobody is left to tell), and keep the reason in the manifest.
		const closing = (reason: RoomCloseReason): void => {
			if (reason !== 'media_failure' || !this.active) return;
			this.#error ??= INTERRUPTED;
			room.broadcastEverywhere('recordingState', this.#state(false));
		};
		room.observer.on('closing', closing);
		this.#roomListeners.push(['closing', closing]);
		room.observer.once('close', (reason) => void this.stop(reason === 'media_failure' ? INTERRUPTED : undefined));
		options.slots.on('release', this.#onSlotFreed);
		for (const peer of room.peers()) this.#syncPeer(peer);
		this.#announce();
		this.#logger.info({ recordingId: this.id, consentRequired: this.consentRequired }, 'recording started');
	}

	get active(): boolean {
		return this.#stopping === null;
	}

	get manifest(): Readonly<ManifestDocument> {
		return this.#manifest.document;
	}

	/** Participants with a recorder process: listed only once something can be written. */
	get recordedPeerIds(): string[] {
		return [...this.#recorders.values()].filter((r) => r.ready).map((r) => r.participantId);
	}

	/** The ffmpeg pid recording a participant (diagnostics and tests). */
	recorderPid(peerId: string): number | undefined {
		return this.#recorders.get(peerId)?.ffmpegPid;
	}

	/** A participant gives or withdraws consent; withdrawing stops recording their tracks now. */
	setConsent(peer: Peer, consent: boolean): void {
		if (consent) this.#consents.add(peer.identity.sub);
		else this.#consents.delete(peer.identity.sub);
		if (!consent && this.#recorders.has(peer.id)) {
			const now = new Date().toISOString();
			void this.#dropPeer(peer.id).then(() =>
				this.#seal(() => {
					this.#manifest.append({ type: 'gap', participantId: peer.id, from: now, to: now, reason: 'consent_withdrawn' });
				}),
			);
		} else {
			this.#syncPeer(peer);
		}
	}

	/** Who consented so far, by `sub` (carried over when the recording moves to another node). */
	get consentedSubs(): string[] {
		return [...this.#consents];
	}

	/**
	 * Stops every recorder, seals the last segments, signs the final manifest.
	 * `error`: it stopped on its own (failed). `notice`: it stopped as asked, and
	 * participants are told why (it moved to another node). Idempotent.
	 */
	stop(error?: { code: string; message: string }, notice?: { code: string; message: string }): Promise<void> {
		// Never rejects: callers `void` it from event handlers, where a
		// rejection would take the whole node down.
		this.#stopping ??= (async () => {
			const stoppedAt = new Date();
			if (error) this.#error ??= error;
			if (notice) this.#notice = notice;
			for (const [event, listener] of this.#roomListeners) this.#options.room.observer.off(event as 'producernew', listener as never);
			this.#options.slots.off('release', this.#onSlotFreed);
			this.#refused.clear();
			await Promise.all([...this.#recorders.values()].map((recorder) => recorder.close()));
			await this.#sealing;
			try {
				this.#manifest.finish(this.#error ? 'failed' : 'stopped', this.#error ?? undefined, stoppedAt);
			} catch (failure) {
				// The segments stay; the manifest on disk is the last one written.
				this.#logger.error({ err: failure, recordingId: this.id }, 'cannot write the final manifest');
				this.#error ??= { code: 'storage_unwritable', message: 'the recording could not be sealed: its manifest cannot be written' };
			}
			this.#recorders.clear();
			this.#logger.info({ recordingId: this.id, state: this.manifest.state, entries: this.manifest.entries.length }, 'recording stopped');
		})()
			.catch((failure: unknown) => {
				this.#logger.error({ err: failure, recordingId: this.id }, 'stopping the recording failed');
			})
			.finally(() => {
				this.#announce();
				this.emit('close');
			});
		return this.#stopping;
	}

	#syncPeer(peer: Peer): void {
		if (!this.active || peer.state === 'closed' || !peer.hasMedia) return;
		const allowed = !this.consentRequired || this.#consents.has(peer.identity.sub);
		if (peer.remote) {
			void this.#syncRemotePeer(peer, allowed);
			return;
		}
		this.#record(peer, allowed ? [...peer.media.producers.values()].map((producer) => ({ producer, router: peer.media.home.router })) : []);
	}

	/** A participant of another node: its producers are piped here first (kept open while recorded). */
	async #syncRemotePeer(peer: Peer, allowed: boolean): Promise<void> {
		const ids = allowed ? [...peer.remoteProducers.keys()] : [];
		const piped = await Promise.all(
			ids.map((id) =>
				this.room.pipeIn(peer, id).catch((error: Error) => {
					this.#logger.warn({ err: error, participantId: peer.id }, 'cannot pipe a participant of another node for recording');
					return null;
				}),
			),
		);
		if (!this.active || peer.state === 'closed') return;
		const sources: RecordedSource[] = [];
		for (const producer of piped) {
			if (!producer || producer.closed) continue;
			sources.push({ producer, router: peer.media.home.router, onConsumer: (consumer) => this.room.link?.consumerOpened(producer.id, consumer) });
		}
		this.#record(peer, sources);
	}

	#record(peer: Peer, sources: RecordedSource[]): void {
		let recorder = this.#recorders.get(peer.id);
		if (sources.length === 0) {
			if (recorder) void this.#dropPeer(peer.id);
			return;
		}
		if (!recorder) {
			try {
				recorder = this.#createRecorder(peer.id);
			} catch (error) {
				// Its folder cannot be created: this recording cannot go on.
				this.#logger.error({ err: error, participantId: peer.id }, 'cannot create a participant recorder');
				void this.stop({ code: 'storage_unwritable', message: 'the recordings folder cannot be written' });
				return;
			}
			this.#recorders.set(peer.id, recorder);
		}
		void recorder.setSources(sources);
	}

	#createRecorder(peerId: string): ParticipantRecorder {
		const dir = path.join(this.#options.dir, `p-${peerId}`);
		const recorder = new ParticipantRecorder(peerId, {
			ffmpeg: this.#options.ffmpeg,
			dir,
			segmentSeconds: this.#options.segmentSeconds,
			ports: this.#options.ports,
			slots: this.#options.slots,
			logger: this.#logger.child({ participantId: peerId }),
		});
		recorder.on('segment', (segment, runStartedAt) => void this.#seal(() => this.#appendSegment(peerId, segment, runStartedAt)));
		recorder.on('gap', (from, to, reason) => {
			this.emit('recorderrestart');
			void this.#seal(() => {
				this.#manifest.append({ type: 'gap', participantId: peerId, from: from.toISOString(), to: to.toISOString(), reason });
			});
		});
		// A recorder that cannot write stops the whole recording: the host must
		// know at once, and nothing already sealed is touched.
		recorder.on('failed', (error) => void this.stop(error));
		recorder.on('ready', () => {
			this.#refused.delete(peerId);
			this.#announce();
		});
		// No capacity for this participant: it must not look recorded.
		recorder.on('refused', (error) => {
			if (this.#recorders.get(peerId) === recorder) this.#recorders.delete(peerId);
			void recorder.close();
			if (!this.active) return;
			this.#refused.set(peerId, error);
			this.#announce();
		});
		return recorder;
	}

	/** A recorder slot came free somewhere on the node: try the participants refused so far. */
	#retryRefused(): void {
		if (!this.active) return;
		for (const peerId of [...this.#refused.keys()]) {
			const peer = this.room.peers().find((p) => p.id === peerId);
			if (!peer) {
				this.#refused.delete(peerId);
				continue;
			}
			this.#syncPeer(peer);
		}
	}

	async #dropPeer(peerId: string): Promise<void> {
		const recorder = this.#recorders.get(peerId);
		if (!recorder) return;
		this.#recorders.delete(peerId);
		this.#announce();
		await recorder.close();
	}

	#seal(task: () => Promise<void> | void): Promise<void> {
		this.#sealing = this.#sealing.then(task).catch((error: unknown) => {
			this.#logger.error({ err: error }, 'sealing a manifest entry failed');
			// A record whose manifest cannot be written is no longer evidence: stop.
			if ((error as NodeJS.ErrnoException).syscall) void this.stop({ code: 'storage_unwritable', message: 'the recording manifest cannot be written' });
		});
		return this.#sealing;
	}

	async #appendSegment(participantId: string, segment: SegmentFile, runStartedAt: Date): Promise<void> {
		const probe = await probeSegment(this.#options.ffprobe, segment.file);
		if (segment.partial && probe.durationSec === 0) {
			// ffmpeg died right after opening it: a header and no media.
			rmSync(segment.file, { force: true });
			this.#logger.info({ file: path.basename(segment.file) }, 'dropped an empty segment left by a dead recorder');
			return;
		}
		const { sha256, size } = await hashFile(segment.file);
		this.#manifest.append({
			type: 'segment',
			participantId,
			file: path.relative(this.#options.dir, segment.file),
			sha256,
			size,
			durationSec: probe.durationSec,
			startedAt: new Date(runStartedAt.getTime() + segment.startOffset * 1000).toISOString(),
			partial: segment.partial,
			codecs: probe.codecs,
		});
		this.emit('segment', size);
	}

	#state(active: boolean): NotificationMap['recordingState'] {
		let error = this.#error ?? this.#notice;
		if (!error && active && this.#refused.size > 0) {
			// Still recording the others; these participants are not.
			const [first] = this.#refused.values();
			error = { code: first!.code, message: `${this.#refused.size} participant(s) cannot be recorded: ${first!.message}` };
		}
		return {
			recordingId: this.id,
			active,
			consentRequired: this.consentRequired,
			recordedPeerIds: active ? this.recordedPeerIds : [],
			...(error ? { error } : {}),
		};
	}

	#announce(): void {
		const state = this.#state(this.active);
		if (!this.#options.room.closed) this.#options.room.broadcastEverywhere('recordingState', state);
		this.#options.publish?.(state);
		this.emit('statechange', state);
	}
}

/**
 * Duration and codecs of a segment, from ffprobe (0 / [] when unreadable).
 * A segment cut short by a crash has no duration in its header: then the end
 * of its last packet is the duration.
 */
export async function probeSegment(ffprobe: string, file: string): Promise<{ durationSec: number; codecs: string[] }> {
	try {
		const { stdout } = await execFileAsync(ffprobe, ['-v', 'error', '-show_entries', 'format=duration:stream=codec_name', '-of', 'json', file], { timeout: 10_000 });
		const parsed = JSON.parse(stdout) as { format?: { duration?: string }; streams?: { codec_name?: string }[] };
		let duration = Number(parsed.format?.duration);
		if (!Number.isFinite(duration)) duration = await lastPacketEnd(ffprobe, file);
		return {
			durationSec: Math.round(duration * 1000) / 1000,
			codecs: (parsed.streams ?? []).map((s) => s.codec_name ?? 'unknown'),
		};
	} catch {
		return { durationSec: 0, codecs: [] };
	}
}

async function lastPacketEnd(ffprobe: string, file: string): Promise<number> {
	const { stdout } = await execFileAsync(ffprobe, ['-v', 'error', '-show_entries', 'packet=pts_time,duration_time', '-of', 'csv=p=0', file], {
		timeout: 30_000,
		maxBuffer: 64 * 1024 * 1024,
	});
	let end = 0;
	for (const line of stdout.split('\n')) {
		const [pts, duration] = line.split(',');
		const value = Number(pts) + (Number(duration) || 0);
		if (Number.isFinite(value) && value > end) end = value;
	}
	return end;
}
