import { Room, type RoomOptions } from './Room.js';

/**
 * Connects to the SFU at `url` (its origin, e.g. `https://sfu.example.org`)
 * with a join `token` minted by the portal, and resolves with the joined
 * {@link Room} — or with a Room in the waiting room (`room.state ===
 * 'waiting'`), which joins by itself once a host admits it.
 *
 * Participants already in the room are in `room.participants`; their tracks
 * arrive as {@link RoomEvent.TrackSubscribed} events after this resolves.
 * To see every event from the very start, use `new Room()`, add listeners,
 * then `room.connect(url, token)`.
 *
 * @throws {SdkError} `auth_*` codes when the token is refused,
 * `connection_failed` when the server cannot be reached.
 */
export async function connect(url: string, token: string, options?: RoomOptions): Promise<Room> {
	const room = new Room(options);
	await room.connect(url, token);
	return room;
}
