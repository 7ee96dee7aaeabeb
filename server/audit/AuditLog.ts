import { EventEmitter } from 'node:events';
import { mkdirSync, truncateSync, unlinkSync } from 'node:fs';
import { open, statfs, type FileHandle } from 'node:fs/promises';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { entryHash, GENESIS, type SigningKey } from '../integrity/index.js';
import type { Logger } from '../logger/index.js';
import { auditFileName, checkpointPayload, entryLine, utcDay, type AuditEntry, type AuditEvent, type CheckpointData } from './AuditEntry.js';
import { lastCompleteLine, listAuditFiles } from './auditFiles.js';

export interface AuditLogOptions {
	/** This node's folder: `<audit root>/<nodeId>` (created). */
	dir: string;
	/** This node's id, written in every entry. */
	node: string;
	/** Signs checkpoints (the node's recording key). */
	key: SigningKey;
	/** A file is closed (sealed by a checkpoint) and a new one begun past this size. Default 64 MiB. */
	maxFileBytes?: number;
	/** A checkpoint is signed after this many entries. Default 100. */
	checkpointEntries?: number;
	/** …or this long after the first entry it would seal. Default 60000 ms. */
	checkpointIntervalMs?: number;
	/** Entries waiting for the disk at most; beyond, entries are counted and dropped, and the count recorded. Default 10000. */
	maxPending?: number;
	/**
	 * Free bytes the trail's disk keeps: below it nothing is written (entries
	 * wait in the bounded queue, an error is logged) until space returns, so the
	 * trail never fills a disk recordings and the system need. Not applied to
	 * the last entries written at close. Default 0 (no floor).
	 */
	minFreeBytes?: number;
	logger: Logger;
	/** The clock (tests). Default: the system's. */
	now?: () => Date;
}

export type AuditLogEvents = {
	/** An entry joined the chain (it reaches the disk shortly after). */
	entry: [entry: AuditEntry];
};

interface Pending {
	file: string;
	text: string;
	/** Flush to the disk after writing (checkpoints). */
	sync: boolean;
}

/**
 * A node's append-only, hash-chained audit trail: JSON lines in files rotated
 * by size and UTC day, sealed by signed checkpoints (every N entries, after T
 * seconds, at each rotation and at close).
 *
 * `record()` never waits for the disk: the entry is chained at once, and one
 * writer appends queued lines in batches (fdatasync after checkpoints), so
 * signaling and media never block on audit I/O. The queue is bounded; what it
 * cannot hold is counted and the count itself enters the chain.
 */
export class AuditLog extends EventEmitter<AuditLogEvents> {
	readonly dir: string;
	readonly node: string;
	readonly #options: Required<Omit<AuditLogOptions, 'dir' | 'node' | 'key' | 'logger' | 'now'>>;
	readonly #key: SigningKey;
	readonly #publicKey: string;
	readonly #logger: Logger;
	readonly #now: () => Date;
	#seq = 0;
	#prev = GENESIS;
	#current: { name: string; bytes: number; day: string } | null = null;
	readonly #queue: Pending[] = [];
	#writing: Promise<void> | null = null;
	#handle: { file: string; fh: FileHandle } | null = null;
	#unsigned = 0;
	#checkpointTimer: NodeJS.Timeout | null = null;
	#dropped = 0;
	/** Whether the disk is below its floor (writing paused). */
	#diskLow = false;
	#closing: Promise<void> | null = null;

	/** Opens a node's trail, continuing its chain after the last complete entry on disk. */
	static open(options: AuditLogOptions): AuditLog {
		return new AuditLog(options);
	}

	private constructor(options: AuditLogOptions) {
		super();
		this.dir = options.dir;
		this.node = options.node;
		this.#key = options.key;
		this.#publicKey = options.key.publicKey.export({ type: 'spki', format: 'der' }).toString('base64');
		this.#logger = options.logger;
		this.#now = options.now ?? (() => new Date());
		this.#options = {
			maxFileBytes: options.maxFileBytes ?? 64 * 1024 * 1024,
			checkpointEntries: options.checkpointEntries ?? 100,
			checkpointIntervalMs: options.checkpointIntervalMs ?? 60_000,
			maxPending: options.maxPending ?? 10_000,
			minFreeBytes: options.minFreeBytes ?? 0,
		};
		mkdirSync(this.dir, { recursive: true, mode: 0o750 });
		const discarded = this.#resume();
		this.record({ type: 'audit.started', actor: null, data: { resumedAt: this.#seq } });
		if (discarded > 0) this.record({ type: 'audit.recovered', actor: null, data: { discardedBytes: discarded } });
	}

	/** Sequence number and hash of the last entry chained (not necessarily on disk yet). */
	get head(): { seq: number; hash: string } {
		return { seq: this.#seq - 1, hash: this.#prev };
	}

	/** The file being appended to. */
	get currentFile(): string | null {
		return this.#current ? path.join(this.dir, this.#current.name) : null;
	}

	/** Chains an entry and queues it for the disk. Returns null if it was dropped (queue full or closed). */
	record(event: AuditEvent): AuditEntry | null {
		if (this.#closing) {
			this.#logger.warn({ type: event.type }, 'audit entry after close dropped');
			return null;
		}
		if (this.#queue.length >= this.#options.maxPending) {
			if (this.#dropped === 0) this.#logger.error({ maxPending: this.#options.maxPending }, 'audit queue full: dropping entries (the count is recorded)');
			this.#dropped += 1;
			return null;
		}
		if (this.#dropped > 0) {
			const count = this.#dropped;
			this.#dropped = 0;
			this.#append({ type: 'audit.dropped', actor: null, data: { count } }, false);
		}
		return this.#append(event, false);
	}

	/** Seals everything chained so far with a signed checkpoint (no-op when nothing is unsigned). */
	checkpoint(): void {
		if (this.#unsigned > 0 && !this.#closing) this.#appendCheckpoint();
	}

	/**
	 * Resolves when every entry chained so far is on disk — or, while the disk
	 * is below its floor, at once (readers of the trail get what is written).
	 */
	async flush(): Promise<void> {
		while (this.#writing) {
			if (this.#diskLow && !this.#closing) return;
			await Promise.race([this.#writing, sleep(250, undefined, { ref: false })]);
		}
	}

	/**
	 * Deletes closed files whose last entry is older than `cutoff`, oldest
	 * first and never leaving a hole, then records which (so the verifier
	 * knows where the chain now legitimately starts). Returns their names.
	 */
	async expireFiles(cutoff: Date): Promise<string[]> {
		await this.flush();
		const files = listAuditFiles(this.dir).filter((f) => f.name !== this.#current?.name);
		const deleted: string[] = [];
		let last: AuditEntry | null = null;
		for (const file of files) {
			const { line } = lastCompleteLine(file.path);
			const entry = line ? (JSON.parse(line) as AuditEntry) : null;
			if (entry && Date.parse(entry.ts) >= cutoff.getTime()) break;
			if (this.#handle?.file === file.name) await this.#closeHandle();
			unlinkSync(file.path);
			deleted.push(file.name);
			if (entry) last = entry;
		}
		if (deleted.length > 0 && last) {
			this.record({
				type: 'audit.expired',
				actor: null,
				data: { files: deleted.length, firstFile: deleted[0]!, lastFile: deleted.at(-1)!, before: cutoff.toISOString(), resumeSeq: last.seq + 1, resumePrev: last.hash },
			});
			this.#logger.info({ files: deleted.length, resumeSeq: last.seq + 1 }, 'expired audit files deleted');
		}
		return deleted;
	}

	/** Signs a final checkpoint, writes everything, closes the file. Idempotent. */
	close(): Promise<void> {
		if (!this.#closing) {
			if (this.#unsigned > 0) this.#appendCheckpoint();
			if (this.#checkpointTimer) clearTimeout(this.#checkpointTimer);
			this.#checkpointTimer = null;
			this.#closing = (async () => {
				await this.flush();
				await this.#closeHandle();
			})();
		}
		return this.#closing;
	}

	/** Continues the chain after the last complete line; cuts a line torn by a crash. Returns the bytes cut. */
	#resume(): number {
		let discarded = 0;
		for (const file of listAuditFiles(this.dir).reverse()) {
			const { line, end, size } = lastCompleteLine(file.path);
			if (end < size) {
				// A crash mid-write: the line never got its newline, so it was never part of the chain.
				truncateSync(file.path, end);
				discarded += size - end;
				this.#logger.warn({ file: file.name, bytes: size - end }, 'cut a torn audit line left by a crash');
			}
			if (line === null) {
				unlinkSync(file.path);
				continue;
			}
			let last: AuditEntry;
			try {
				last = JSON.parse(line) as AuditEntry;
			} catch {
				throw new Error(`the last line of audit file ${file.path} is unreadable; run npm run verify-audit`);
			}
			this.#seq = last.seq + 1;
			this.#prev = last.hash;
			this.#current = { name: file.name, bytes: end, day: file.day };
			// Whatever the previous run did not seal is sealed by the next checkpoint.
			this.#unsigned = last.type === 'checkpoint' ? 0 : 1;
			break;
		}
		return discarded;
	}

	#appendCheckpoint(): AuditEntry {
		return this.#append({ type: 'checkpoint', actor: null }, true);
	}

	#append(event: AuditEvent, sync: boolean): AuditEntry {
		const ts = this.#now().toISOString();
		const isCheckpoint = event.type === 'checkpoint';
		if (this.#current && !isCheckpoint && (utcDay(ts) !== this.#current.day || this.#current.bytes >= this.#options.maxFileBytes)) {
			// Each closed file ends sealed; the next file's first entry commits to this checkpoint.
			if (this.#unsigned > 0) this.#appendCheckpoint();
			this.#current = null;
		}
		this.#current ??= { name: auditFileName(this.#seq, ts), bytes: 0, day: utcDay(ts) };
		const entry: AuditEntry = {
			v: 1,
			seq: this.#seq,
			ts,
			node: this.node,
			type: event.type,
			actor: event.actor,
			...(event.target ? { target: event.target } : {}),
			...(event.room !== undefined ? { room: event.room } : {}),
			...(event.recordingId !== undefined ? { recordingId: event.recordingId } : {}),
			...(event.data ? { data: event.data } : {}),
			prev: this.#prev,
			hash: '',
		};
		if (isCheckpoint) {
			const data: CheckpointData = { keyId: this.#key.keyId, publicKey: this.#publicKey, signature: this.#key.sign(checkpointPayload(entry)) };
			entry.data = data;
		}
		// `hash` must stay last in the line; entryHash ignores it.
		const { hash: _unset, ...body } = entry;
		const full: AuditEntry = { ...body, hash: entryHash(body) };
		const text = `${entryLine(full)}\n`;
		this.#queue.push({ file: this.#current.name, text, sync });
		this.#current.bytes += Buffer.byteLength(text);
		this.#seq += 1;
		this.#prev = full.hash;
		if (isCheckpoint) {
			this.#unsigned = 0;
			if (this.#checkpointTimer) clearTimeout(this.#checkpointTimer);
			this.#checkpointTimer = null;
			// The head, in the node's logs: an anchor outside the trail, against which truncation shows.
			this.#logger.info({ seq: full.seq, head: full.hash }, 'audit checkpoint');
		} else {
			this.#unsigned += 1;
		}
		this.emit('entry', full);
		this.#kick();
		if (!isCheckpoint) {
			if (this.#unsigned >= this.#options.checkpointEntries) this.#appendCheckpoint();
			else this.#checkpointTimer ??= setTimeout(() => this.checkpoint(), this.#options.checkpointIntervalMs).unref();
		}
		return full;
	}

	#kick(): void {
		if (this.#writing || this.#queue.length === 0) return;
		this.#writing = this.#drain().finally(() => {
			this.#writing = null;
			this.#kick();
		});
	}

	/** True when the trail's disk is below its floor (entries wait in memory). */
	get diskLow(): boolean {
		return this.#diskLow;
	}

	/** Whether the disk has room above the floor; says so in the logs when that changes. */
	async #roomOnDisk(): Promise<boolean> {
		if (this.#options.minFreeBytes <= 0 || this.#closing) return true;
		let free: number;
		try {
			const stats = await statfs(this.dir);
			free = stats.bavail * stats.bsize;
		} catch {
			// Cannot tell: let the write itself succeed or fail.
			return true;
		}
		const low = free < this.#options.minFreeBytes;
		if (low && !this.#diskLow) {
			this.#logger.error({ freeBytes: free, minFreeBytes: this.#options.minFreeBytes, pending: this.#queue.length }, 'audit disk nearly full: entries wait in memory until space is freed');
		} else if (!low && this.#diskLow) {
			this.#logger.info({ freeBytes: free, pending: this.#queue.length }, 'audit disk has room again: writing the waiting entries');
		}
		this.#diskLow = low;
		return !low;
	}

	/** The one writer: appends queued lines in batches, one file at a time, until the queue is empty. */
	async #drain(): Promise<void> {
		let failures = 0;
		while (this.#queue.length > 0) {
			if (!(await this.#roomOnDisk())) {
				// Unref'd, like the retries below: waiting for space does not keep a finished process alive.
				await sleep(1000, undefined, { ref: false });
				continue;
			}
			const file = this.#queue[0]!.file;
			let count = 0;
			let sync = false;
			while (count < this.#queue.length && this.#queue[count]!.file === file) {
				sync ||= this.#queue[count]!.sync;
				count += 1;
			}
			const text = this.#queue
				.slice(0, count)
				.map((p) => p.text)
				.join('');
			try {
				if (this.#handle?.file !== file) {
					await this.#closeHandle();
					this.#handle = { file, fh: await open(path.join(this.dir, file), 'a', 0o640) };
				}
				await this.#handle.fh.appendFile(text);
				if (sync) await this.#handle.fh.datasync();
				this.#queue.splice(0, count);
			} catch (error) {
				failures += 1;
				await this.#closeHandle().catch(() => undefined);
				if (this.#closing && failures >= 3) {
					// Shutting down on a broken disk: say what is lost rather than hang.
					this.#logger.error({ err: error, file, lost: this.#queue.length }, 'writing the audit trail failed at shutdown; entries lost');
					this.#queue.length = 0;
					return;
				}
				// Kept in the queue (bounded): retried until the disk takes it.
				this.#logger.error({ err: error, file }, 'writing the audit trail failed; retrying');
				if ((error as NodeJS.ErrnoException).code === 'ENOENT') mkdirSync(this.dir, { recursive: true, mode: 0o750 });
				// Unref'd: a retry alone does not keep a finished process alive.
				await sleep(1000, undefined, { ref: false });
			}
		}
	}

	async #closeHandle(): Promise<void> {
		const handle = this.#handle;
		this.#handle = null;
		if (!handle) return;
		try {
			await handle.fh.datasync();
		} finally {
			await handle.fh.close();
		}
	}
}
