/**
 * The SFU's Grafana dashboards, as code. `npm run grafana:build` writes them
 * to grafana/dashboards/*.json (what Grafana provisions); the tests check the
 * files match this source, validate them against @grafana/schema, and run
 * every query against a real Prometheus scraping a real server.
 */
import { dashboardJson, NODE, type DashboardSpec } from './panels.js';

const R = '$__rate_interval';
const rate = (metric: string, extra = ''): string => `rate(${metric}{${NODE}${extra ? `, ${extra}` : ''}}[${R}])`;
/** Loss ratio of RTP streams, 0–1; `by` groups it. Counters with no traffic give 0, not a gap. */
const lossRatio = (direction: 'in' | 'out', by: string): string =>
	`sum by (${by}) (${rate('sfu_rtp_packets_lost_total', `direction="${direction}"`)}) / clamp_min(sum by (${by}) (${rate('sfu_rtp_packets_total', `direction="${direction}"`)}${direction === 'in' ? ` + ${rate('sfu_rtp_packets_lost_total', 'direction="in"')}` : ''}), 1)`;
const quantile = (q: number, histogram: string, by: string, extra = ''): string =>
	`histogram_quantile(${q}, sum by (le${by ? `, ${by}` : ''}) (${rate(`${histogram}_bucket`, extra)}))`;

export const overview: DashboardSpec = {
	uid: 'sfu-overview',
	title: 'SFU · Cluster overview',
	description: 'Every SFU node at a glance: nodes up, rooms, peers, bitrates, loss, worker load, recordings.',
	tags: ['overview'],
	rows: [
		{
			title: 'Now',
			panels: [
				{ kind: 'stat', title: 'Nodes up', description: 'SFU nodes Prometheus reaches (file-based service discovery: grafana/prometheus/targets/).', queries: [{ expr: `sum(up{${NODE}})` }] },
				{ kind: 'stat', title: 'Rooms', description: 'Open rooms over the selected nodes.', queries: [{ expr: `sum(sfu_rooms{${NODE}})` }] },
				{ kind: 'stat', title: 'Peers in calls', description: 'Admitted peers (waiting and disconnected excluded).', queries: [{ expr: `sum(sfu_peers{${NODE}, state="joined"})` }] },
				{ kind: 'stat', title: 'In waiting rooms', description: 'Patients waiting for a host to admit them.', queries: [{ expr: `sum(sfu_peers{${NODE}, state="waiting"})` }], thresholds: [5, 20] },
				{ kind: 'stat', title: 'Recordings', description: 'Recordings in progress.', queries: [{ expr: `sum(sfu_recordings_active{${NODE}})` }] },
				{
					kind: 'stat',
					title: 'Media in / out',
					description: 'RTP bitrate received from publishers and sent to subscribers and recorders.',
					unit: 'bps',
					queries: [
						{ expr: `8 * sum(${rate('sfu_rtp_bytes_total', 'direction="in"')})`, legend: 'in' },
						{ expr: `8 * sum(${rate('sfu_rtp_bytes_total', 'direction="out"')})`, legend: 'out' },
					],
				},
			],
		},
		{
			title: 'Traffic',
			panels: [
				{
					kind: 'timeseries',
					title: 'RTP bitrate by node',
					description: 'in: from publishers and device streams; out: to subscribers and recorders.',
					unit: 'bps',
					queries: [{ expr: `8 * sum by (instance, direction) (${rate('sfu_rtp_bytes_total')})`, legend: '{{instance}} {{direction}}' }],
				},
				{
					kind: 'timeseries',
					title: 'Peers by role',
					description: 'Admitted peers by role, over the selected nodes.',
					stack: true,
					queries: [{ expr: `sum by (role) (sfu_peers{${NODE}, state="joined"})`, legend: '{{role}}' }],
				},
				{
					kind: 'timeseries',
					title: 'Rooms and consumers by node',
					description: 'Consumers are the fan-out load: one per subscriber per track (pipe consumers between workers included).',
					queries: [
						{ expr: `sum by (instance) (sfu_rooms{${NODE}})`, legend: '{{instance}} rooms' },
						{ expr: `sum by (instance) (sfu_consumers{${NODE}})`, legend: '{{instance}} consumers' },
					],
				},
				{
					kind: 'timeseries',
					title: 'Pipes between workers',
					description: 'Pipe transports carry a room that spread over several workers of a node.',
					queries: [{ expr: `sum by (instance) (sfu_transports{${NODE}, type="pipe"})`, legend: '{{instance}}' }],
				},
			],
		},
		{
			title: 'Health',
			panels: [
				{
					kind: 'timeseries',
					title: 'Packet loss',
					description: 'Uplink: publishers → SFU (as the SFU saw it). Downlink: SFU → subscribers (as their RTCP reported it).',
					unit: 'percentunit',
					thresholds: [0.02, 0.05],
					min: 0,
					queries: [
						{ expr: lossRatio('in', 'instance'), legend: '{{instance}} uplink' },
						{ expr: lossRatio('out', 'instance'), legend: '{{instance}} downlink' },
					],
				},
				{
					kind: 'timeseries',
					title: 'Busiest worker CPU by node',
					description: 'A mediasoup worker is single-threaded: 100 % is a full core and the ceiling for its rooms.',
					unit: 'percentunit',
					thresholds: [0.7, 0.85],
					min: 0,
					queries: [{ expr: `max by (instance) (sum by (instance, worker) (${rate('sfu_worker_cpu_seconds_total')}))`, legend: '{{instance}}' }],
				},
				{
					kind: 'timeseries',
					title: 'Signaling errors by code',
					description: 'Requests answered with an error, by stable error code (internal_error deserves a look).',
					unit: 'reqps',
					queries: [{ expr: `sum by (code) (${rate('sfu_signaling_errors_total')})`, legend: '{{code}}' }],
				},
				{
					kind: 'timeseries',
					title: 'Join → first media (p90)',
					description: 'Seconds from a join being accepted to the first RTP packet sent to the peer / received from it.',
					unit: 's',
					thresholds: [3, 5],
					queries: [{ expr: quantile(0.9, 'sfu_join_first_media_seconds', 'direction'), legend: '{{direction}}' }],
				},
			],
		},
	],
};

export const sessionQuality: DashboardSpec = {
	uid: 'sfu-session-quality',
	title: 'SFU · Session quality',
	description: 'Is a district link struggling? Loss, round trip, jitter, quality scores, repair requests and bandwidth estimates.',
	tags: ['quality'],
	rows: [
		{
			title: 'Loss and delay',
			panels: [
				{
					kind: 'timeseries',
					title: 'Uplink loss by kind (publishers → SFU)',
					description: 'Packets lost on the way from publishing sites and device encoders, as gaps the SFU saw.',
					unit: 'percentunit',
					thresholds: [0.02, 0.05],
					min: 0,
					queries: [{ expr: lossRatio('in', 'kind'), legend: '{{kind}}' }],
				},
				{
					kind: 'timeseries',
					title: 'Downlink loss by kind (SFU → subscribers)',
					description: 'Losses subscribers reported in RTCP receiver reports.',
					unit: 'percentunit',
					thresholds: [0.02, 0.05],
					min: 0,
					queries: [{ expr: lossRatio('out', 'kind'), legend: '{{kind}}' }],
				},
				{
					kind: 'timeseries',
					title: 'Round-trip time',
					description: 'From RTCP between the SFU and subscribers (p50 and p95 over stream samples).',
					unit: 's',
					thresholds: [0.2, 0.4],
					queries: [
						{ expr: quantile(0.5, 'sfu_rtp_round_trip_seconds', '', 'direction="out"'), legend: 'p50' },
						{ expr: quantile(0.95, 'sfu_rtp_round_trip_seconds', '', 'direction="out"'), legend: 'p95' },
					],
				},
				{
					kind: 'timeseries',
					title: 'Jitter of received streams (p95)',
					description: 'Interarrival jitter of what publishers send, by kind.',
					unit: 's',
					thresholds: [0.03, 0.05],
					queries: [{ expr: quantile(0.95, 'sfu_rtp_jitter_seconds', 'kind'), legend: '{{kind}}' }],
				},
			],
		},
		{
			title: 'Quality and repair',
			panels: [
				{
					kind: 'timeseries',
					title: 'Streams scored 6 or lower',
					description: "Share of stream samples whose mediasoup score (0-10, from loss and repair) was 6 or lower.",
					unit: 'percentunit',
					thresholds: [0.05, 0.2],
					min: 0,
					queries: [
						{
							expr: `sum by (direction) (${rate('sfu_rtp_stream_score_bucket', 'le="6"')}) / clamp_min(sum by (direction) (${rate('sfu_rtp_stream_score_count')}), 1e-9)`,
							legend: '{{direction}}',
						},
					],
				},
				{
					kind: 'timeseries',
					title: 'NACK / PLI / FIR',
					description: 'Repair requests per second (in: the SFU asked publishers; out: subscribers asked the SFU). PLI/FIR storms freeze video.',
					unit: 'reqps',
					queries: [
						{ expr: `sum by (direction) (${rate('sfu_rtp_nack_total')})`, legend: 'NACK {{direction}}' },
						{ expr: `sum by (direction) (${rate('sfu_rtp_pli_total')})`, legend: 'PLI {{direction}}' },
						{ expr: `sum by (direction) (${rate('sfu_rtp_fir_total')})`, legend: 'FIR {{direction}}' },
					],
				},
				{
					kind: 'timeseries',
					title: 'Weakest subscriber downlinks',
					description: "The SFU's bandwidth estimate towards WebRTC subscribers: the 10th and 50th percentile of transport samples.",
					unit: 'bps',
					queries: [
						{ expr: quantile(0.1, 'sfu_transport_available_outgoing_bitrate_bps', ''), legend: 'p10' },
						{ expr: quantile(0.5, 'sfu_transport_available_outgoing_bitrate_bps', ''), legend: 'p50' },
					],
				},
				{
					kind: 'timeseries',
					title: 'Signaling disconnects by reason',
					description: 'ping_timeout: the link went silent for 20 s (a struggling site); transport_close: the page or network closed it.',
					unit: 'ops',
					queries: [{ expr: `sum by (reason) (${rate('sfu_signaling_disconnects_total')})`, legend: '{{reason}}' }],
				},
			],
		},
		{
			title: 'Joining and signaling',
			panels: [
				{
					kind: 'timeseries',
					title: 'Join → first media',
					description: 'From the join being accepted to the first RTP packet sent to the peer (to_peer) or received from it (from_peer).',
					unit: 's',
					thresholds: [3, 5],
					queries: [
						{ expr: quantile(0.5, 'sfu_join_first_media_seconds', 'direction'), legend: 'p50 {{direction}}' },
						{ expr: quantile(0.95, 'sfu_join_first_media_seconds', 'direction'), legend: 'p95 {{direction}}' },
					],
				},
				{
					kind: 'timeseries',
					title: 'Signaling ack latency (p95) by method',
					description: 'From a request reaching the server to its acknowledgement.',
					unit: 's',
					queries: [{ expr: quantile(0.95, 'sfu_signaling_ack_seconds', 'method'), legend: '{{method}}' }],
				},
			],
		},
		{
			title: 'Rooms (needs METRICS_ROOM_LABELS=1)',
			panels: [
				{
					kind: 'table',
					title: 'Rooms by opaque reference',
					description: 'Per-room series exist only when the node runs with METRICS_ROOM_LABELS=1. The room reference is the one in the logs (npm run room-ref -- <roomId>).',
					width: 24,
					queries: [
						{ expr: `sum by (room) (sfu_room_peers{${NODE}})`, legend: 'peers' },
						{ expr: `sum by (room) (sfu_room_consumers{${NODE}})`, legend: 'consumers' },
						{ expr: `8 * sum by (room) (${rate('sfu_room_rtp_bytes_total')})`, legend: 'bit/s' },
						{ expr: `sum by (room) (${rate('sfu_room_rtp_packets_lost_total')})`, legend: 'lost/s' },
					],
				},
			],
		},
	],
};

export const recording: DashboardSpec = {
	uid: 'sfu-recording',
	title: 'SFU · Recording and ingest',
	description: 'Clinical recordings (active, written, restarts, failures, disk) and device streams entering through plain RTP transports.',
	tags: ['recording', 'ingest'],
	rows: [
		{
			title: 'Recordings',
			panels: [
				{ kind: 'stat', title: 'Active recordings', description: 'Recordings in progress.', queries: [{ expr: `sum(sfu_recordings_active{${NODE}})` }] },
				{ kind: 'stat', title: 'Participants recorded', description: 'Participants whose tracks are being recorded now.', queries: [{ expr: `sum(sfu_recording_participants{${NODE}})` }] },
				{
					kind: 'stat',
					title: 'Failures (range)',
					description: 'Recordings that failed in the dashboard time range (disk_full, recorder_failed).',
					thresholds: [1, 1],
					queries: [{ expr: `sum(increase(sfu_recording_failures_total{${NODE}}[$__range]))` }],
				},
				{
					kind: 'stat',
					title: 'Recorder restarts (range)',
					description: 'ffmpeg recorders that died and were replaced (each leaves a gap in the manifest).',
					thresholds: [1, 5],
					queries: [{ expr: `sum(increase(sfu_recording_ffmpeg_restarts_total{${NODE}}[$__range]))` }],
				},
				{
					kind: 'stat',
					title: 'Least free recording disk',
					description: 'Free space on the emptiest recordings disk; recordings stop cleanly below RECORDING_MIN_FREE_MB.',
					unit: 'bytes',
					queries: [{ expr: `min(sfu_recording_disk_free_bytes{${NODE}})` }],
				},
				{
					kind: 'stat',
					title: 'Recordings started (range)',
					description: 'Recordings started in the dashboard time range.',
					queries: [{ expr: `sum(increase(sfu_recordings_started_total{${NODE}}[$__range]))` }],
				},
				{
					kind: 'timeseries',
					title: 'Bytes written',
					description: 'Segment bytes sealed into signed manifests, per node (segments are sealed every RECORDING_SEGMENT_SECONDS).',
					unit: 'Bps',
					queries: [{ expr: `sum by (instance) (${rate('sfu_recording_bytes_total')})`, legend: '{{instance}}' }],
				},
				{
					kind: 'timeseries',
					title: 'Recording endings, failures and restarts',
					description: 'Recordings stopped by result, failures by code, recorder restarts.',
					unit: 'ops',
					queries: [
						{ expr: `sum by (result) (${rate('sfu_recordings_stopped_total')})`, legend: 'ended {{result}}' },
						{ expr: `sum by (code) (${rate('sfu_recording_failures_total')})`, legend: 'failed {{code}}' },
						{ expr: `sum(${rate('sfu_recording_ffmpeg_restarts_total')})`, legend: 'recorder restarts' },
					],
				},
				{
					kind: 'timeseries',
					title: 'Recording outflow',
					description: 'RTP the SFU sends to the recorders (plain transports to local ffmpeg).',
					unit: 'bps',
					queries: [{ expr: `8 * sum by (instance, kind) (${rate('sfu_rtp_bytes_total', 'direction="out", transport="plain"')})`, legend: '{{instance}} {{kind}}' }],
				},
				{
					kind: 'timeseries',
					title: 'Pulled ingest sources by state',
					description: 'RTSP/SRT/file sources pulled through ffmpeg: live, connecting, retrying (the device link is struggling), failed.',
					stack: true,
					queries: [{ expr: `sum by (state) (sfu_ingest_sources{${NODE}})`, legend: '{{state}}' }],
				},
				{
					kind: 'timeseries',
					title: 'Ingest state changes',
					description: 'A source flapping between live and retrying is a device link in trouble.',
					unit: 'ops',
					queries: [{ expr: `sum by (state) (${rate('sfu_ingest_state_changes_total')})`, legend: '{{state}}' }],
				},
				{
					kind: 'timeseries',
					title: 'Recording disk free',
					description: 'Free bytes on each node’s recordings disk.',
					unit: 'bytes',
					queries: [{ expr: `sfu_recording_disk_free_bytes{${NODE}}`, legend: '{{instance}}' }],
				},
			],
		},
	],
};

export const workers: DashboardSpec = {
	uid: 'sfu-workers',
	title: 'SFU · Worker capacity',
	description: 'mediasoup workers (one per core): CPU, memory, load and restarts; the Node.js process; the cost of stats sampling.',
	tags: ['capacity'],
	rows: [
		{
			title: 'Workers',
			panels: [
				{ kind: 'stat', title: 'Workers up', description: 'Live mediasoup workers (a dead one is replaced within seconds).', queries: [{ expr: `sum(sfu_worker_up{${NODE}})` }] },
				{
					kind: 'stat',
					title: 'Worker restarts (range)',
					description: 'Workers that died and were replaced in the time range; their rooms were closed.',
					thresholds: [1, 3],
					queries: [{ expr: `sum(increase(sfu_worker_restarts_total{${NODE}}[$__range]))` }],
				},
				{ kind: 'stat', title: 'Transports', description: 'Live transports of all types.', queries: [{ expr: `sum(sfu_transports{${NODE}})` }] },
				{ kind: 'stat', title: 'Producers', description: 'Live producers (pipe producers between workers included).', queries: [{ expr: `sum(sfu_producers{${NODE}})` }] },
				{ kind: 'stat', title: 'Consumers', description: 'Live consumers (pipe consumers between workers included).', queries: [{ expr: `sum(sfu_consumers{${NODE}})` }] },
				{
					kind: 'stat',
					title: 'Busiest worker',
					description: 'CPU of the busiest worker: rooms start to suffer near 100 % (one core).',
					unit: 'percentunit',
					thresholds: [0.7, 0.85],
					queries: [{ expr: `max(sum by (instance, worker) (${rate('sfu_worker_cpu_seconds_total')}))` }],
				},
				{
					kind: 'timeseries',
					title: 'CPU per worker',
					description: 'Fraction of a core each mediasoup worker uses (user + system).',
					unit: 'percentunit',
					thresholds: [0.7, 0.85],
					min: 0,
					queries: [{ expr: `sum by (instance, worker) (${rate('sfu_worker_cpu_seconds_total')})`, legend: '{{instance}} w{{worker}}' }],
				},
				{
					kind: 'timeseries',
					title: 'Memory per worker',
					description: 'Resident memory of each mediasoup worker process.',
					unit: 'bytes',
					queries: [{ expr: `sfu_worker_resident_memory_bytes{${NODE}}`, legend: '{{instance}} w{{worker}}' }],
				},
				{
					kind: 'timeseries',
					title: 'Consumers and routers per worker',
					description: 'New rooms go to the worker with the fewest consumers; a room spreads when its router passes ROUTER_CONSUMER_BUDGET.',
					queries: [
						{ expr: `sfu_worker_consumers{${NODE}}`, legend: '{{instance}} w{{worker}} consumers' },
						{ expr: `sfu_worker_routers{${NODE}}`, legend: '{{instance}} w{{worker}} routers' },
					],
				},
				{
					kind: 'timeseries',
					title: 'Media objects by type',
					description: 'Transports by type, producers and consumers by kind.',
					queries: [
						{ expr: `sum by (type) (sfu_transports{${NODE}})`, legend: 'transports {{type}}' },
						{ expr: `sum by (kind) (sfu_producers{${NODE}})`, legend: 'producers {{kind}}' },
						{ expr: `sum by (kind) (sfu_consumers{${NODE}})`, legend: 'consumers {{kind}}' },
					],
				},
			],
		},
		{
			title: 'Node.js process',
			panels: [
				{
					kind: 'timeseries',
					title: 'Process CPU',
					description: 'The Node.js process (signaling, rooms, metrics): one core at most for its main thread.',
					unit: 'percentunit',
					queries: [{ expr: `rate(process_cpu_seconds_total{${NODE}}[${R}])`, legend: '{{instance}}' }],
				},
				{
					kind: 'timeseries',
					title: 'Event loop lag (p99)',
					description: 'A lagging event loop delays every signaling answer.',
					unit: 's',
					thresholds: [0.05, 0.2],
					queries: [{ expr: `nodejs_eventloop_lag_p99_seconds{${NODE}}`, legend: '{{instance}}' }],
				},
				{
					kind: 'timeseries',
					title: 'Memory',
					description: 'Resident memory and used heap of the Node.js process.',
					unit: 'bytes',
					queries: [
						{ expr: `process_resident_memory_bytes{${NODE}}`, legend: '{{instance}} rss' },
						{ expr: `sum by (instance) (nodejs_heap_size_used_bytes{${NODE}})`, legend: '{{instance}} heap' },
					],
				},
				{
					kind: 'timeseries',
					title: 'Stats sampling cost',
					description: 'Fraction of wall time spent in getStats() passes, and objects left for a later pass (raise METRICS_STATS_MAX_OBJECTS if it stays above 0).',
					queries: [
						{ expr: `sum by (instance) (${rate('sfu_stats_sample_pass_seconds_sum')})`, legend: '{{instance}} busy fraction' },
						{ expr: `sum by (instance) (${rate('sfu_stats_deferred_objects_total')})`, legend: '{{instance}} deferred/s' },
						{ expr: `sum by (instance) (${rate('sfu_stats_sample_errors_total')})`, legend: '{{instance}} errors/s' },
					],
				},
			],
		},
	],
};

export const DASHBOARDS: Record<string, DashboardSpec> = {
	'sfu-overview': overview,
	'sfu-session-quality': sessionQuality,
	'sfu-recording': recording,
	'sfu-workers': workers,
};

/** File name → dashboard JSON, as grafana/dashboards/ holds them. */
export function buildDashboards(): Record<string, Record<string, unknown>> {
	return Object.fromEntries(Object.entries(DASHBOARDS).map(([name, spec]) => [`${name}.json`, dashboardJson(spec)]));
}
