/**
 * Signaling protocol v1: the one definition of every message between the
 * server and the client SDK, and the vocabulary every layer shares. Imports
 * nothing of the server: the SDK imports its types from here too.
 *
 * Transport: Socket.IO. The client connects with `auth: { token, room? }`;
 * each request is an event named after its method, sent with an
 * acknowledgement callback that receives a {@link Result}. Server-initiated
 * messages are events named after the notification, without acknowledgement.
 * See docs/protocol.md for the prose version.
 */
export * from './vocabulary.js';
export * from './text.js';
export * from './rtp.js';
export * from './requests.js';
export type * from './responses.js';
export type * from './notifications.js';
export type * from './socketEvents.js';
export type * from './observed.js';
export { SfuError } from './SfuError.js';
