/**
 * Who a host let in and who a host removed, per room, by the token's `sub`:
 * state every node hosting the room shares (Redis in a cluster, memory on one
 * node). An admitted patient who comes back through any node is not parked
 * again; a removed participant is out for the room's life, on every node.
 */
export interface RoomAdmissions {
	isAdmitted(roomId: string, sub: string): Promise<boolean>;
	admit(roomId: string, sub: string): Promise<void>;
	isBanned(roomId: string, sub: string): Promise<boolean>;
	/** Removed by a host: neither admitted nor allowed back while the room lives. */
	ban(roomId: string, sub: string): Promise<void>;
	/** The room closed on this node: local state goes (shared state goes with the room's last node). */
	forget(roomId: string): void;
}

/** One node: the room's admissions live with it in memory. */
export class LocalAdmissions implements RoomAdmissions {
	readonly #rooms = new Map<string, { admitted: Set<string>; banned: Set<string> }>();

	async isAdmitted(roomId: string, sub: string): Promise<boolean> {
		return this.#rooms.get(roomId)?.admitted.has(sub) ?? false;
	}

	async admit(roomId: string, sub: string): Promise<void> {
		this.#of(roomId).admitted.add(sub);
	}

	async isBanned(roomId: string, sub: string): Promise<boolean> {
		return this.#rooms.get(roomId)?.banned.has(sub) ?? false;
	}

	async ban(roomId: string, sub: string): Promise<void> {
		const room = this.#of(roomId);
		room.admitted.delete(sub);
		room.banned.add(sub);
	}

	forget(roomId: string): void {
		this.#rooms.delete(roomId);
	}

	#of(roomId: string): { admitted: Set<string>; banned: Set<string> } {
		let room = this.#rooms.get(roomId);
		if (!room) this.#rooms.set(roomId, (room = { admitted: new Set(), banned: new Set() }));
		return room;
	}
}
