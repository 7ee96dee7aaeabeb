export { IngestService } from './IngestService.js';
export type { IngestServiceEvents, IngestServiceOptions } from './IngestService.js';
export { PullIngest } from './PullIngest.js';
export type { PullIngestStatus } from './PullIngest.js';
export { parseSource } from './sourceUrl.js';
export { ingestSdp } from './senderSdp.js';
