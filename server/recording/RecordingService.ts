import { EventEmitter } from 'node:events';
import { randomUUID } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statfsSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { SfuError } from '../protocol/index.js';
import type { SigningKey } from '../integrity/index.js';
import type { Logger } from '../logger/index.js';
import type { Peer, Room } from '../rooms/index.js';
import { FINAL_DIR, finalizeRecording, type FinalizeOptions, type FinalizeStatus } from './finalize.js';
import { isOnLegalHold } from './legalHold.js';
import { MANIFEST_FILE, type ManifestDocument } from './Manifest.js';
import { RecordingPorts } from './ports.js';
import { makePrivateDir, writePrivateFile } from './privateFiles.js';
import { RecorderSlots } from './RecorderSlots.js';
import { Recording } from './Recording.js';
import type { RecordingCluster, RecordingState } from './RecordingCluster.js';

export interface RecordingServiceOptions {
	/** Where recordings live: one folder per recording. */
	dir: string;
	segmentSeconds: number;
	ffmpeg: string;
	ffprobe: string;
	/** Local UDP ports ffmpeg receives on. */
	portMin: number;
	portMax: number;
	/** Recorder ffmpeg processes this node runs at most (one per recorded participant). Default 64. */
	maxFfmpeg?: number;
	/** Whether recordings need each participant's consent unless the host says otherwise. */
	requireConsentDefault: boolean;
	/** Free bytes the disk must keep; below it recordings stop with `disk_full`. */
	minFreeBytes: number;
	key: SigningKey;
	/** Compose each stopped recording into one consult video (final/consult.mp4) when finalizing. */
	compose?: boolean;
	/** The cluster's side of recordings (absent on a single node). */
	cluster?: RecordingCluster;
	logger: Logger;
}

export interface RecordingSummary {
	id: string;
	roomId: string;
	state: ManifestDocument['state'];
	startedAt: string;
	stoppedAt: string | null;
	segments: number;
	bytes: number;
	error: ManifestDocument['error'];
	finalize: FinalizeStatus | null;
	/** Under legal hold: neither an admin nor retention may delete it. */
	legalHold: boolean;
}

/** For monitors (audit, metrics): recordings starting and stopping on this node. */
export type RecordingServiceObserverEvents = {
	recordingstart: [recording: Recording];
	recordingstop: [recording: Recording];
};

const STATUS_FILE = 'finalize.json';
const ID_PATTERN = /^[0-9a-f-]{36}$/;
const DISK_CHECK_MS = 1000;

/**
 * This node's recordings: starts at most one per room, stops them, finalizes
 * them in the background, and lists what is on disk.
 */
export class RecordingService {
	readonly observer = new EventEmitter<RecordingServiceObserverEvents>();
	readonly #options: RecordingServiceOptions;
	readonly #ports: RecordingPorts;
	readonly #slots: RecorderSlots;
	readonly #active = new Map<string, Recording>();
	readonly #finalizing = new Map<string, Promise<FinalizeStatus>>();
	readonly #compositions = new Set<Promise<void>>();
	readonly #closing = new AbortController();
	#diskTimer: NodeJS.Timeout | null = null;
	#closed = false;

	constructor(options: RecordingServiceOptions) {
		this.#options = options;
		this.#ports = new RecordingPorts(options.portMin, options.portMax);
		this.#slots = new RecorderSlots(options.maxFfmpeg ?? 64);
		// An existing folder keeps the modes its operator gave it; a new one is private.
		if (!existsSync(options.dir)) makePrivateDir(options.dir);
		else mkdirSync(options.dir, { recursive: true });
	}

	/** Recorder processes running (or starting) now, and the cap. */
	get recorders(): { inUse: number; max: number } {
		return { inUse: this.#slots.inUse, max: this.#slots.max };
	}

	get dir(): string {
		return this.#options.dir;
	}

	/** The active recording of a room, if any. */
	activeFor(roomId: string): Recording | undefined {
		return this.#active.get(roomId);
	}

	activeRecordings(): Recording[] {
		return [...this.#active.values()];
	}

	/**
	 * Starts recording a room on this node (the caller checked the host's
	 * permission); in a cluster the room must not be recorded by another node.
	 */
	async start(room: Room, options: { requireConsent?: boolean; consents?: readonly string[]; continuesFrom?: string } = {}): Promise<Recording> {
		if (this.#closed) throw new SfuError('unavailable', 'the server is shutting down');
		if (room.closed) throw new SfuError('room_closed', 'the room has closed');
		if (this.#active.has(room.id)) throw new SfuError('invalid_state', 'this room is already being recorded');
		this.#assertWritable();
		if (this.#freeBytes() < this.#options.minFreeBytes) throw new SfuError('unavailable', 'the recordings disk is nearly full');
		// A recording that could record nobody would show a banner over nothing.
		if (this.#slots.available === 0) throw new SfuError('limit_exceeded', `this server already runs as many recorders as it may (${this.#slots.max})`);
		const id = randomUUID();
		const cluster = this.#options.cluster;
		await cluster?.claim(room.id, id);
		if (this.#closed || room.closed || this.#active.has(room.id)) {
			await cluster?.release(room.id, id);
			throw new SfuError(room.closed ? 'room_closed' : 'invalid_state', room.closed ? 'the room has closed' : 'this room is already being recorded');
		}
		let recording: Recording;
		try {
			recording = new Recording({
				id,
				room,
				dir: path.join(this.#options.dir, id),
				consentRequired: options.requireConsent ?? this.#options.requireConsentDefault,
				segmentSeconds: this.#options.segmentSeconds,
				ffmpeg: this.#options.ffmpeg,
				ffprobe: this.#options.ffprobe,
				ports: this.#ports,
				slots: this.#slots,
				key: this.#options.key,
				...(options.consents ? { consents: options.consents } : {}),
				...(options.continuesFrom ? { continuesFrom: options.continuesFrom } : {}),
				...(cluster ? { publish: (state: RecordingState) => cluster.publish(room.id, state) } : {}),
				logger: this.#options.logger.child({ recordingId: id, roomId: room.id }),
			});
		} catch (error) {
			// Its folder or first manifest cannot be written.
			await cluster?.release(room.id, id).catch(() => undefined);
			this.#options.logger.error({ err: error, recordingId: id }, 'cannot start a recording');
			throw new SfuError('unavailable', `the recording cannot be written (${(error as NodeJS.ErrnoException).code ?? 'error'})`);
		}
		this.#active.set(room.id, recording);
		// Late joiners must see the banner too.
		const greet = (peer: Peer): void => {
			if (recording.active) peer.notify('recordingState', { recordingId: id, active: true, consentRequired: recording.consentRequired, recordedPeerIds: recording.recordedPeerIds });
		};
		room.observer.on('peerjoined', greet);
		room.observer.on('peerresumed', greet);
		recording.once('close', () => {
			room.observer.off('peerjoined', greet);
			room.observer.off('peerresumed', greet);
			if (this.#active.get(room.id) === recording) this.#active.delete(room.id);
			void cluster?.release(room.id, id).catch(() => undefined);
			if (this.#active.size === 0 && this.#diskTimer) {
				clearInterval(this.#diskTimer);
				this.#diskTimer = null;
			}
			this.observer.emit('recordingstop', recording);
			// At shutdown there is no time to remux: POST …/finalize does it later.
			if (!this.#closed) {
				try {
					void this.finalize(id).catch(() => undefined);
				} catch (error) {
					// No readable manifest (it could not be written): nothing to remux.
					this.#options.logger.warn({ err: error, recordingId: id }, 'the recording cannot be finalized');
				}
			}
		});
		this.observer.emit('recordingstart', recording);
		this.#diskTimer ??= setInterval(() => this.#checkDisk(), DISK_CHECK_MS);
		return recording;
	}

	/** Stops the room's active recording, on this node or (in a cluster) on the node that records it. */
	async stop(roomId: string): Promise<{ recordingId: string }> {
		const recording = this.#active.get(roomId);
		if (recording) {
			await recording.stop();
			return { recordingId: recording.id };
		}
		if (this.#options.cluster && (await this.#options.cluster.remoteState(roomId))?.state.active) return this.#options.cluster.stop(roomId);
		throw new SfuError('invalid_state', 'this room is not being recorded');
	}

	/**
	 * A participant gives or withdraws consent to the room's recording, on this
	 * node or on the node that records the room.
	 */
	async setConsent(room: Room, peer: Peer, consent: boolean): Promise<{ recordingId: string }> {
		const recording = this.#active.get(room.id);
		if (recording) {
			recording.setConsent(peer, consent);
			return { recordingId: recording.id };
		}
		const cluster = this.#options.cluster;
		const remote = cluster ? await cluster.remoteState(room.id) : null;
		if (!cluster || !remote?.state.active) throw new SfuError('invalid_state', 'this room is not being recorded');
		await cluster.setConsent(room.id, peer.id, consent);
		return { recordingId: remote.state.recordingId };
	}

	/**
	 * A participant of another node answered this node's recording (the
	 * cluster carried it here): the participant is one of the room's mirrors.
	 */
	setRemoteConsent(roomId: string, peerId: string, consent: boolean): void {
		const recording = this.#active.get(roomId);
		if (!recording) throw new SfuError('invalid_state', 'this room is not being recorded here');
		const room = recording.room;
		const peer = room.peers().find((p) => p.id === peerId);
		if (!peer) throw new SfuError('not_found', 'no such participant in this room');
		recording.setConsent(peer, consent);
	}

	/**
	 * This node is being stopped while the cluster goes on (a rolling update):
	 * each of its recordings is sealed and signed here, and continues on another
	 * node of the cluster as a new recording of the room (its manifest names the
	 * one it continues), with the consents given so far. Participants see the
	 * recording stop with `recording_moved`, then the new one start.
	 */
	async handOver(): Promise<void> {
		const cluster = this.#options.cluster;
		if (!cluster) return;
		for (const recording of [...this.#active.values()]) {
			const plan = { roomId: recording.roomId, requireConsent: recording.consentRequired, consents: recording.consentedSubs, continuesFrom: recording.id, policy: recording.room.policy };
			await recording.stop(undefined, { code: 'recording_moved', message: 'the recording continues on another server' });
			await cluster.release(recording.roomId, recording.id).catch(() => undefined);
			try {
				const { recordingId, nodeId } = await cluster.continueElsewhere(plan);
				this.#options.logger.info({ recordingId: recording.id, continuedAs: recordingId, nodeId }, 'recording continues on another node');
			} catch (error) {
				this.#options.logger.error({ err: error, recordingId: recording.id }, 'the recording could not continue on another node');
			}
		}
	}

	/** Stops by recording id (REST). */
	async stopById(recordingId: string): Promise<Recording> {
		const recording = [...this.#active.values()].find((r) => r.id === recordingId);
		if (!recording) throw new SfuError('not_found', 'no active recording with that id');
		await recording.stop();
		return recording;
	}

	/** Folder of a recording, after checking the id cannot escape the recordings folder. */
	folderOf(recordingId: string): string {
		if (!ID_PATTERN.test(recordingId)) throw new SfuError('not_found', 'no such recording');
		const dir = path.join(this.#options.dir, recordingId);
		if (!existsSync(path.join(dir, MANIFEST_FILE))) throw new SfuError('not_found', 'no such recording');
		return dir;
	}

	manifest(recordingId: string): ManifestDocument {
		return JSON.parse(readFileSync(path.join(this.folderOf(recordingId), MANIFEST_FILE), 'utf8')) as ManifestDocument;
	}

	summary(recordingId: string): RecordingSummary {
		const doc = this.manifest(recordingId);
		const segments = doc.entries.filter((e) => e.type === 'segment');
		let finalize: FinalizeStatus | null;
		try {
			finalize = JSON.parse(readFileSync(path.join(this.folderOf(recordingId), FINAL_DIR, STATUS_FILE), 'utf8')) as FinalizeStatus;
		} catch {
			finalize = this.#finalizing.has(recordingId) ? { state: 'pending', done: 0, total: 0, outputs: [] } : null;
		}
		return {
			id: doc.recordingId,
			roomId: doc.roomId,
			state: doc.state,
			startedAt: doc.startedAt,
			stoppedAt: doc.stoppedAt,
			segments: segments.length,
			bytes: segments.reduce((sum, s) => sum + (s.type === 'segment' ? s.size : 0), 0),
			error: doc.error,
			finalize,
			legalHold: isOnLegalHold(this.folderOf(recordingId)),
		};
	}

	/** Every recording on disk, newest first; `roomId` filters. */
	list(filter: { roomId?: string } = {}): RecordingSummary[] {
		const out: RecordingSummary[] = [];
		for (const name of readdirSync(this.#options.dir)) {
			if (!ID_PATTERN.test(name)) continue;
			try {
				const summary = this.summary(name);
				if (!filter.roomId || summary.roomId === filter.roomId) out.push(summary);
			} catch {
				// A folder without a readable manifest is not a recording.
			}
		}
		return out.sort((a, b) => b.startedAt.localeCompare(a.startedAt));
	}

	/** Remuxes a stopped recording in the background; resolves with the final status. */
	finalize(recordingId: string): Promise<FinalizeStatus> {
		let job = this.#finalizing.get(recordingId);
		if (!job) {
			const dir = this.folderOf(recordingId);
			const doc = this.manifest(recordingId);
			const statusFile = path.join(dir, FINAL_DIR, STATUS_FILE);
			job = finalizeRecording(dir, doc, this.#options.ffmpeg, (status) => {
				makePrivateDir(path.dirname(statusFile));
				writePrivateFile(statusFile, JSON.stringify(status));
			}, this.#options.compose ? { compose: this.#compositionOptions(recordingId) } : {}).then((status) => {
				this.#options.logger.info({ recordingId, state: status.state, outputs: status.outputs.length }, 'recording finalized');
				return status;
			});
			this.#finalizing.set(recordingId, job);
			// Settles either way; a rejection here must not become an unhandled one.
			job.finally(() => this.#finalizing.delete(recordingId)).catch((error: unknown) => {
				this.#options.logger.error({ err: error, recordingId }, 'finalizing the recording failed');
			});
		}
		return job;
	}

	#compositionOptions(recordingId: string): NonNullable<FinalizeOptions['compose']> {
		return {
			key: this.#options.key,
			logger: this.#options.logger.child({ recordingId }),
			signal: this.#closing.signal,
			onStarted: (composition) => {
				this.#compositions.add(composition);
				void composition.finally(() => this.#compositions.delete(composition));
			},
		};
	}

	/** Deletes a stopped recording and everything derived from it. */
	delete(recordingId: string): void {
		const dir = this.folderOf(recordingId);
		if ([...this.#active.values()].some((r) => r.id === recordingId)) throw new SfuError('invalid_state', 'stop the recording first');
		if (this.#finalizing.has(recordingId)) throw new SfuError('invalid_state', 'the recording is being finalized');
		if (isOnLegalHold(dir)) throw new SfuError('invalid_state', 'the recording is under legal hold');
		rmSync(dir, { recursive: true, force: true });
	}

	/** Stops every active recording (shutdown) and waits for finalization to settle. */
	async close(): Promise<void> {
		this.#closed = true;
		if (this.#diskTimer) clearInterval(this.#diskTimer);
		this.#diskTimer = null;
		await Promise.all([...this.#active.values()].map((r) => r.stop()));
		await Promise.allSettled([...this.#finalizing.values()]);
		// Compositions run for minutes after finalizing: stop their ffmpeg, wait for their cleanup.
		this.#closing.abort();
		await Promise.allSettled([...this.#compositions]);
	}

	/**
	 * Stops recordings cleanly while there is still room to seal them: a full
	 * disk would corrupt the segment being written and the manifest with it.
	 */
	#checkDisk(): void {
		let free: number;
		try {
			free = this.#freeBytes();
		} catch (error) {
			// The folder vanished (unmounted?): recorders will fail on their own.
			this.#options.logger.error({ err: error }, 'cannot check the recordings disk');
			return;
		}
		if (free >= this.#options.minFreeBytes) return;
		this.#options.logger.error({ freeBytes: free, minFreeBytes: this.#options.minFreeBytes }, 'recordings disk nearly full: stopping recordings');
		for (const recording of this.#active.values()) {
			void recording.stop({ code: 'disk_full', message: 'the recordings disk is full; the recording was stopped and everything recorded so far is kept' });
		}
	}

	#freeBytes(): number {
		const stats = statfsSync(this.#options.dir);
		return stats.bavail * stats.bsize;
	}

	#assertWritable(): void {
		try {
			const probe = path.join(this.#options.dir, `.write-test-${process.pid}`);
			writeFileSync(probe, '');
			rmSync(probe);
		} catch (error) {
			throw new SfuError('unavailable', `the recordings folder is not writable (${(error as NodeJS.ErrnoException).code ?? 'error'})`);
		}
	}
}
