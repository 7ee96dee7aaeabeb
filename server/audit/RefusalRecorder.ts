import { isIPv6 } from 'node:net';
import type { AuditData } from './AuditEntry.js';
import type { AuditLog } from './AuditLog.js';

/** A request refused before anyone was authenticated: a bad, expired or missing token, or a connection limit. */
export interface Refusal {
	via: 'signaling' | 'rest';
	/** The refusal's error code (`auth_invalid_token`, `limit_exceeded`, …). */
	code: string;
	/** The client's address as the server saw it (unverified, like everything else here). */
	address: string | null;
	/** The room the client named, if any. */
	room?: string;
	/** REST: method and route pattern (never the URL: it may carry ids). */
	method?: string;
	route?: string;
}

export interface RefusalRecorderOptions {
	/** Length of one counting window. Default 60000 ms. */
	intervalMs?: number;
	/** Addresses counted separately per window; the rest share one "others" count. Default 100. */
	maxAddresses?: number;
	/** The clock (tests). Default: the system's. */
	now?: () => Date;
}

/** One address's refusals in the current window. */
interface Tally {
	count: number;
	/** Refusals written as entries of their own (the first of each code). */
	recorded: number;
	codes: Map<string, number>;
}

/** The shared tally of addresses beyond `maxAddresses`. */
const OTHERS = 'others';

/**
 * Refusals of unauthenticated clients, bounded: strangers cannot grow the
 * trail (and fill its disk) by sending garbage tokens. In each window, the
 * first refusal of each code from an address is an `access.refused` entry
 * of its own, as before; the rest are counted, and when the window ends each
 * address with more gets one `auth.refused` entry with the counts. At most
 * `maxAddresses` addresses are tracked per window (IPv6 by /64, which one
 * client may own whole); refusals from further addresses share one "others"
 * tally, written only as a summary. So a window writes at most
 * maxAddresses × (codes + 1) + 1 entries, however many refusals arrive.
 */
export class RefusalRecorder {
	readonly #log: AuditLog;
	readonly #intervalMs: number;
	readonly #maxAddresses: number;
	readonly #now: () => Date;
	readonly #tallies = new Map<string, Tally>();
	#windowStart: Date | null = null;
	#timer: NodeJS.Timeout | null = null;
	#closed = false;

	constructor(log: AuditLog, options: RefusalRecorderOptions = {}) {
		this.#log = log;
		this.#intervalMs = options.intervalMs ?? 60_000;
		this.#maxAddresses = options.maxAddresses ?? 100;
		this.#now = options.now ?? (() => new Date());
	}

	record(refusal: Refusal): void {
		if (this.#closed) return;
		const key = addressKey(refusal.address);
		let tally = this.#tallies.get(key);
		if (!tally) {
			const full = this.#tallies.size >= this.#maxAddresses + (this.#tallies.has(OTHERS) ? 1 : 0);
			const bucket = full ? OTHERS : key;
			tally = this.#tallies.get(bucket);
			if (!tally) {
				tally = { count: 0, recorded: 0, codes: new Map() };
				this.#tallies.set(bucket, tally);
			}
		}
		tally.count += 1;
		const seen = tally.codes.get(refusal.code) ?? 0;
		tally.codes.set(refusal.code, seen + 1);
		if (seen === 0 && tally !== this.#tallies.get(OTHERS)) {
			tally.recorded += 1;
			const data: AuditData = { via: refusal.via, ...(refusal.method ? { method: refusal.method } : {}), ...(refusal.route ? { route: refusal.route } : {}), code: refusal.code, address: refusal.address };
			this.#log.record({ type: 'access.refused', actor: null, ...(refusal.room ? { room: refusal.room } : {}), data });
		}
		if (!this.#timer) {
			this.#windowStart = this.#now();
			this.#timer = setTimeout(() => this.flush(), this.#intervalMs).unref();
		}
	}

	/** Ends the window: one `auth.refused` summary per address that had refusals not written on their own. */
	flush(): void {
		if (this.#timer) clearTimeout(this.#timer);
		this.#timer = null;
		const since = this.#windowStart?.toISOString() ?? this.#now().toISOString();
		for (const [address, tally] of this.#tallies) {
			if (tally.count === tally.recorded) continue;
			const codes = [...tally.codes].map(([code, n]) => `${code}=${n}`).join(',');
			this.#log.record({
				type: 'auth.refused',
				actor: null,
				data: { address, count: tally.count, recorded: tally.recorded, codes, since, until: this.#now().toISOString() },
			});
		}
		this.#tallies.clear();
		this.#windowStart = null;
	}

	/** Writes the open window's summary; later refusals are ignored. Idempotent. */
	close(): void {
		if (this.#closed) return;
		this.flush();
		this.#closed = true;
	}
}

/** IPv4 (and IPv4-mapped) addresses as they are; IPv6 by /64, the block one subscriber gets. */
function addressKey(address: string | null): string {
	if (!address) return 'unknown';
	const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
	if (mapped) return mapped[1]!;
	if (!isIPv6(address)) return address;
	const [head = '', tail = ''] = address.split('::');
	const left = head ? head.split(':') : [];
	const right = tail ? tail.split(':') : [];
	const groups = address.includes('::') ? [...left, ...Array<string>(8 - left.length - right.length).fill('0'), ...right] : left;
	return `${groups
		.slice(0, 4)
		.map((g) => g.toLowerCase().replace(/^0+(?=.)/, ''))
		.join(':')}::/64`;
}
