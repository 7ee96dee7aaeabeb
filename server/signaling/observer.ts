import { EventEmitter } from 'node:events';
import type { SignalingObserverEvents } from '../protocol/index.js';

/**
 * Signaling as seen by monitors (metrics, audit): the server and its sessions
 * emit, anyone may listen, nobody's behaviour depends on it.
 */
export class SignalingObserver extends EventEmitter<SignalingObserverEvents> {}
