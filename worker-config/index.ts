export { ROUTER_MEDIA_CODECS } from './codecs.js';
export { workerSettings } from './worker.js';
export type { WorkerSettingsInput } from './worker.js';
export { CONSUMER_PRIORITY, consumerPriority } from './priorities.js';
