import type { Socket } from 'socket.io';
import type { JoinClaims } from '../auth/index.js';
import type { ClientToServerEvents, ServerToClientEvents } from '../protocol/index.js';

export interface SocketData {
	claims: JoinClaims;
}

 
export type SfuSocket = Socket<ClientToServerEvents, ServerToClientEvents, Record<string, never>, SocketData>;
