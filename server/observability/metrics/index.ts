export { attachMetrics, SfuMetrics } from './attachMetrics.js';
export type { MetricsDeps, MetricsSettings } from './attachMetrics.js';
export { MediaObjects } from './MediaObjects.js';
export type { TrackedConsumer, TrackedObject, TrackedProducer, TrackedTransport, TransportType } from './MediaObjects.js';
export { StatsSampler } from './StatsSampler.js';
export type { RtpStreamSample, SamplerTick, StatsSamplerOptions, StatsSink, TransportStatsSample } from './StatsSampler.js';
export { RtpMetrics } from './RtpMetrics.js';
export { INGEST_STATES, registerIngestMetrics } from './IngestMetrics.js';
export type { IngestSource } from './IngestMetrics.js';
