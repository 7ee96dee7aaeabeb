import { EventEmitter } from 'node:events';
import { execFile } from 'node:child_process';
import { mkdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { hashFile, type SigningKey } from '../integrity/index.js';
import type { Logger } from '../logger/index.js';
import type { Peer, Room } from '../rooms/index.js';
import type { NotificationMap } from '../protocol/index.js';
import type { SegmentFile } from './FfmpegRun.js';
import { ManifestWriter, type ManifestDocument } from './Manifest.js';
import { ParticipantRecorder, type RecordedSource } from './ParticipantRecorder.js';
import type { RecordingPorts } from './ports.js';

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

	constructor(options: RecordingOptions) {
		super();
		this.id = options.id;
		this.roomId = options.room.id;
		this.room = options.room;
		this.consentRequired = options.consentRequired;
		this.#options = options;
		this.#logger = options.logger;
		mkdirSync(options.dir, { recursive: true });
		for (const sub of options.consents ?? []) this.#consents.add(sub);
		this.#manifest = new ManifestWriter(
			options.dir,
			{ recordingId: this.id, roomId: this.roomId, consentRequired: this.consentRequired, segmentSeconds: options.segmentSeconds, ...(options.continuesFrom ? { continuesFrom: options.continuesFrom } : {}) },
			options.key,
		);
		const room = options.room;
		const follow = <E extends 'producernew' | 'producerclose' | 'mirrorupdate' | 'peerleft'>(event: E, listener: (peer: Peer) => void): void => {
			room.observer.on(event, listener as never);
			this.#roomListeners.push([event, listener]);
		};
		follow('producernew', (peer) => this.#syncPeer(peer));
		follow('producerclose', (peer) => this.#syncPeer(peer));
		// Participants of other nodes: their tracks are piped here and recorded alike.
		follow('mirrorupdate', (peer) => this.#syncPeer(peer));
		follow('peerleft', (peer) => void this.#dropPeer(peer.id));
		room.observer.once('close', () => void this.stop());
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

	get recordedPeerIds(): string[] {
		return [...this.#recorders.keys()];
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
		this.#stopping ??= (async () => {
			const stoppedAt = new Date();
			if (error) this.#error = error;
			if (notice) this.#notice = notice;
			for (const [event, listener] of this.#roomListeners) this.#options.room.observer.off(event as 'producernew', listener as never);
			await Promise.all([...this.#recorders.values()].map((recorder) => recorder.close()));
			await this.#sealing;
			this.#manifest.finish(this.#error ? 'failed' : 'stopped', this.#error ?? undefined, stoppedAt);
			this.#recorders.clear();
			this.#logger.info({ recordingId: this.id, state: this.manifest.state, entries: this.manifest.entries.length }, 'recording stopped');
			this.#announce();
			this.emit('close');
		})();
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
			recorder = this.#createRecorder(peer.id);
			this.#recorders.set(peer.id, recorder);
			this.#announce();
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
		return recorder;
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

	#announce(): void {
		const state: NotificationMap['recordingState'] = {
			recordingId: this.id,
			active: this.active,
			consentRequired: this.consentRequired,
			recordedPeerIds: this.active ? this.recordedPeerIds : [],
			...(this.#error ? { error: this.#error } : this.#notice ? { error: this.#notice } : {}),
		};
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
