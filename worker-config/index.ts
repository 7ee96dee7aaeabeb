export { ROUTER_MEDIA_CODECS } from './codecs.js';
export { workerSettings } from './worker.js';
export type { WorkerSettingsInput } from './worker.js';
export { CONSUMER_PRIORITY, consumerPriority } from './priorities.js';
export { INGEST_H264_PARAMETERS, INGEST_RTP, MEDIA_PROFILES } from './profiles.js';
export type { MediaProfile, MediaProfileName } from './profiles.js';
