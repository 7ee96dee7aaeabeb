export { SignalingServer } from './SignalingServer.js';
export { SignalingObserver } from './observer.js';
export type { SignalingDeps, SignalingOptions } from './SignalingServer.js';
