export { SignalingServer } from './SignalingServer.js';
export type { SignalingDeps, SignalingOptions } from './SignalingServer.js';
export * from './protocol.js';
