import type { Socket } from 'socket.io';
import type { PeerChannel } from '../rooms/index.js';
import type { NotificationMap, NotificationName } from '../protocol/index.js';
import type { SfuSocket } from './types.js';

/** A peer's notifications over its Socket.IO socket. */
export class SocketChannel implements PeerChannel {
	readonly #socket: SfuSocket;

	constructor(socket: SfuSocket) {
		this.#socket = socket;
	}

	notify<N extends NotificationName>(name: N, data: NotificationMap[N]): void {
		// The typed emit cannot narrow a generic event name; the map keeps it sound.
		(this.#socket as unknown as Socket).emit(name, data);
	}

	close(options: { reconnect?: boolean } = {}): void {
		// Deferred so a pending ack or notification is written before the close.
		// A dropped transport (not a server "disconnect") makes socket.io-client
		// reconnect by itself.
		setImmediate(() => (options.reconnect ? this.#socket.conn.close() : this.#socket.disconnect(true)));
	}
}
