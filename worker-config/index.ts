export { ROUTER_MEDIA_CODECS } from './codecs.js';
export { workerSettings } from './worker.js';
export type { WorkerSettingsInput } from './worker.js';
export { consumerPriority, INGEST_H264_PARAMETERS, INGEST_RTP, MEDIA_PROFILES, profileOf } from './profiles.js';
export type { MediaProfile, MediaProfileName, MediaSource, SendEncoding } from './profiles.js';
