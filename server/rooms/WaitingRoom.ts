import { waitsForAdmission } from '../auth/index.js';
import type { Role } from '../protocol/index.js';
import type { Peer } from './Peer.js';
import type { RoomAdmissions } from './RoomAdmissions.js';

/**
 * Who waits for a host, and who was let in. Admissions are remembered by the
 * token's `sub` for the room's life, on every node hosting the room, so a
 * patient whose network blips for longer than the grace period (or who comes
 * back through another node) is not parked again.
 */
export class WaitingRoom {
	readonly #roomId: string;
	readonly #enabled: boolean;
	readonly #admissions: RoomAdmissions;
	/** Waiting peers of this node a host admitted, until they join for real. */
	readonly #admitted = new Set<string>();

	constructor(roomId: string, enabled: boolean, admissions: RoomAdmissions) {
		this.#roomId = roomId;
		this.#enabled = enabled;
		this.#admissions = admissions;
	}

	/** Whether a newcomer with this role and `sub` must wait for a host. */
	async mustWait(role: Role, sub: string): Promise<boolean> {
		return waitsForAdmission(role, this.#enabled) && !(await this.#admissions.isAdmitted(this.#roomId, sub));
	}

	/** A waiting peer the host let in: it joins for real on its next `join`. */
	isAdmitted(peer: Peer): boolean {
		return this.#admitted.has(peer.id);
	}

	async admit(peer: Peer): Promise<void> {
		await this.#admissions.admit(this.#roomId, peer.identity.sub);
		this.#admitted.add(peer.id);
	}

	/** The peer joined (admitted or directly), or left. */
	settled(peer: Peer): void {
		this.#admitted.delete(peer.id);
	}

	/** Of `peers`, those still waiting for a host (admitted ones excluded). */
	waiting(peers: Iterable<Peer>): Peer[] {
		return [...peers].filter((p) => p.state === 'waiting' && !this.#admitted.has(p.id));
	}

	clear(): void {
		this.#admitted.clear();
	}
}
