import type { Socket } from 'socket.io';
import type { JoinClaims } from '../auth/index.js';
import type { ClientToServerEvents, ServerToClientEvents } from '../protocol/index.js';

export interface SocketData {
	claims: JoinClaims;
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type SfuSocket = Socket<ClientToServerEvents, ServerToClientEvents, Record<string, never>, SocketData>;
