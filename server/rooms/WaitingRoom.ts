import { waitsForAdmission } from '../auth/index.js';
import type { CloseReason, Role } from '../protocol/index.js';
import type { Peer } from './Peer.js';

/**
 * Who waits for a host, and who was let in. Admissions are remembered by the
 * token's `sub` for the room's life, so a patient whose network blips for
 * longer than the grace period comes back without waiting again; someone the
 * host removed must ask again.
 */
export class WaitingRoom {
	readonly #enabled: boolean;
	/** Waiting peers a host admitted, until they join for real. */
	readonly #admitted = new Set<string>();
	/** Users (by `sub`) a host admitted during this room's life. */
	readonly #admittedSubs = new Set<string>();

	constructor(enabled: boolean) {
		this.#enabled = enabled;
	}

	/** Whether a newcomer with this role and `sub` must wait for a host. */
	mustWait(role: Role, sub: string): boolean {
		return waitsForAdmission(role, this.#enabled) && !this.#admittedSubs.has(sub);
	}

	/** A waiting peer the host let in: it joins for real on its next `join`. */
	isAdmitted(peer: Peer): boolean {
		return this.#admitted.has(peer.id);
	}

	admit(peer: Peer): void {
		this.#admitted.add(peer.id);
		this.#admittedSubs.add(peer.identity.sub);
	}

	/** The peer joined (admitted or directly). */
	entered(peer: Peer): void {
		this.#admitted.delete(peer.id);
	}

	/** The peer left; one removed by the host must ask again next time. */
	left(peer: Peer, reason: CloseReason): void {
		this.#admitted.delete(peer.id);
		if (reason === 'removed') this.#admittedSubs.delete(peer.identity.sub);
	}

	/** Of `peers`, those still waiting for a host (admitted ones excluded). */
	waiting(peers: Iterable<Peer>): Peer[] {
		return [...peers].filter((p) => p.state === 'waiting' && !this.#admitted.has(p.id));
	}

	clear(): void {
		this.#admitted.clear();
	}
}
