/**
 * Shapes of the JSON files the load tests write to load-tests/results/ (writeResult) and
 * report.ts reads back. Each runner checks its object against its type (`satisfies`), so
 * a field renamed on one side fails the type check on the other.
 *
 * Fields marked optional were added later: result files from older runs lack them, and
 * the report reads them with a fallback. Numbers that were NaN or ±Infinity are null in
 * the files (JSON.stringify): the report prints every number through n() / Number.isFinite,
 * which show them as n/a.
 */
import type { RtpDump } from '../forwarding/rtpDump.js';
import type { TrialResult } from '../forwarding/trial.js';
import type { Summary } from './measure.js';
import type { MediaSummary } from './mediaSummary.js';

// signaling.json (npm run bench:signaling)

/** One phase (connect, join, burst, leave) of one engine run. */
export interface SignalingPhase {
	latencyMs: Summary;
	errors: number;
	wallMs: number;
	serverCpuMs: number;
	workerCpuMs: number;
	serverCpuMsPerOp: number;
	serverCoreShare: number;
	/** This process (all clients): when it nears 100 %, latencies measure the clients, not the server. */
	clientCoreShare: number;
}

/** One run of one engine. */
export interface SignalingEngineRun {
	engine: string;
	clients: number;
	rooms: number;
	/** By phase name: connect, join, burst, leave. */
	phases: Record<string, SignalingPhase>;
	idleAckRttMs: Summary;
	serverRssMiB: { start: number; joined: number; end: number };
}

/** One engine, medians over the repetitions. */
export interface SignalingEngineSummary {
	engine: string;
	/** By phase name: connect, join, burst, leave. */
	phases: Record<string, { p50Ms: number; p99Ms: number; serverCpuMsPerOp: number; serverCoreShare: number; clientCoreShare: number; errors: number }>;
	idleAckRttP50Ms: number;
	idleAckRttP99Ms: number;
	serverRssJoinedMiB: number;
}

export interface SignalingResult {
	date: string;
	clients: number;
	roomSize: number;
	rounds: number;
	repeat: number;
	summary: SignalingEngineSummary[];
	results: SignalingEngineRun[];
}

// grand-round.json (npm run bench:grand-round)

export interface GrandRoundNode {
	node: string;
	/** Signaling viewers that joined through this node. */
	viewers: number;
	/** The node's load as the cluster registry saw it (null: not listed; absent in older files). */
	load?: { peers: number; pipesIn: number; pipesOut: number } | null;
	webrtcVideoPacketsOutPerSecond?: number;
	/** Metric samples by label set. */
	consumersPerWorker: Record<string, number>;
	transportBytes: Record<string, number>;
	notificationsSent: Record<string, number>;
	arrival: { nodeCpuMs: number; workerCpuMs: number[]; nodeCpuMsPerViewer: number };
	hold: { nodeCoreShare: number; workerCoreShare: number[] };
	rssMiB: { nodeStart?: number; nodeEnd: number; workerStart?: number; workerEnd: number };
}

export interface GrandRoundResult {
	date: string;
	host?: { rmemDefault: number | null };
	viewers: number;
	/** Absent in older files, where every viewer was a signaling bot. */
	signalingViewers?: number;
	mediaViewers?: number;
	/** Signaling viewers that joined. */
	joined: number;
	media?: MediaSummary | null;
	failures: number;
	arrivalWallMs: number;
	holdSeconds: number;
	latencyMs: Record<'connect' | 'join' | 'consume' | 'total', Summary>;
	perNode: GrandRoundNode[];
}

// churn.json (npm run bench:churn)

/** One 5 s window of the run. */
export interface ChurnSample {
	t: number;
	active: number;
	nodeRssMiB: number;
	workerRssMiB: number;
	nodeCoreShare: number;
	joinP50Ms: number;
	joinP99Ms: number;
	joins: number;
}

/** The server's object counts (from its metrics). */
export interface ChurnObjects {
	consumers: number;
	connections: number;
	peers: number;
	heapUsedMiB: number;
}

export interface ChurnResult {
	date: string;
	rate: number;
	seconds: number;
	lifetime: number;
	rooms: number;
	arrivals: number;
	completed: number;
	failures: number;
	drainMs: number;
	connectToConsumingMs: Summary;
	joinMs: Summary;
	cpu: { nodeMs: number; workerMs: number[]; nodeCoreShare: number; nodeCpuMsPerSession: number };
	rssMiB: { baseline: { node: number; worker: number }; afterDrain: { node: number; worker: number } };
	/** Absent in older files. */
	heapAfterGcMiB?: { baseline: number; afterDrain: number; perThousandSessionsKiB: number };
	objects: { baseline: ChurnObjects; afterDrain: ChurnObjects };
	timeline: ChurnSample[];
	/** With --media: the WebRTC viewers. */
	media?: (MediaSummary & { leftBeforePicture: number }) | null;
}

// conferences.json (npm run bench:conferences)

/** One scenario (consults, conferences). */
export interface ConferenceRun {
	scenario: string;
	rooms: number;
	sites: number;
	peers: number;
	clip: { width: number; height: number; fps: number; bitrate: string; gopSeconds: number };
	/** Absent in older files. */
	host?: { rmemDefault: number | null };
	arrivalMs: number;
	arrivalCpuMsPerPeer: { node: number; workers: number[] };
	/** Absent in older files (signaling bots only): the report skips those rows. */
	media?: MediaSummary;
	/** The server's view over the hold, by direction/kind (in/audio, out/video, …). */
	serverRtp: Record<string, { packetsPerSecond: number; lossPct: number }>;
	consumersPerWorker: Record<string, number>;
	routersPerWorker: Record<string, number>;
	hold: { seconds: number; nodeCoreShare: number; workerCoreShare: number[]; botProcessCoreShare: number[] };
	rssMiB: Record<'start' | 'holdStart' | 'end', { node: number; workers: number[] }>;
}

export interface ConferencesResult {
	date: string;
	results: ConferenceRun[];
}

// browsers.json (npm run bench:browsers)

export interface BrowsersResult {
	date: string;
	tabs: number;
	rooms: number;
	joinMs: Summary;
	firstFrameMs: Summary;
	pairsWithoutVideo: number;
	videoKbps: Summary;
	videoLossPercent: Summary;
	audioLossPercent: Summary;
	videoWidth: Summary;
	cpu: { chromiumCores: number; serverCores: number; workerCores: number; chromiumCoresPerTab: number };
	browserErrors: string[];
}

// forwarding.json (npm run bench:forwarding)

/** One trial, or the error that ended it. */
export interface ForwardingTrial extends Partial<TrialResult> {
	system: string;
	n: number;
	rep: number;
	attempts: number;
	error?: string;
}

/** One system at one N, medians over the repetitions. */
export interface ForwardingSystemSummary {
	trials: number;
	disturbed: number;
	usPerPacket: number;
	coreShare: number;
	lossWorstPercent: number;
	deliveredPercent: number;
	inputPacketsPerSecond: number;
}

/** One receiver count N. */
export interface ForwardingRow {
	n: number;
	packetsPerSecondOut: number;
	/** By system name (ours, ours-lean, janus, floor): the systems of the run. */
	systems: Record<string, ForwardingSystemSummary>;
	ratios: { oursToJanus: number; oursToFloor: number; oursLeanToJanus: number; oursLeanToFloor: number };
}

export interface ForwardingResult {
	date: string;
	host: { cpus: number; model: string | undefined; kernel: string; loadavgAtEnd: number[] };
	options: { receivers: number[]; seconds: number; warmup: number; reps: number; systems: string[]; resolution: string; pacing: string };
	/** The replayed dump, without its path. */
	input: Omit<RtpDump, 'file'> & { file?: undefined };
	trials: ForwardingTrial[];
	summary: ForwardingRow[];
	elapsedSeconds: number;
}

// weak-links.json (npm run bench:weak-links)

/** One direction of a consult on a weak link, from the receiving browser's WebRTC stats (test/support/weakLink.ts). */
export interface WeakLinkDirection {
	audioConcealedPercent: number;
	audioLossPercent: number;
	audioKbps: number;
	videoFps: number;
	videoWidth: number;
	videoHeight: number;
	videoKbps: number;
	videoLossPercent: number;
	freezeCount: number;
	freezeSeconds: number;
	videoPausedShare: number;
	rttMs: number;
	seconds: number;
}

/** How long media and full quality took to come back after an outage (null: not within 60 s). */
export interface WeakLinkRecovery {
	mediaS: number | null;
	fullQualityS: number | null;
	widthBefore: number;
}

export interface WeakLinksResult {
	startedAt: string;
	settleS: number;
	measureS: number;
	profiles: { profile: string; impairment: object; up: WeakLinkDirection; down: WeakLinkDirection }[];
	outages: { up: WeakLinkRecovery; down: WeakLinkRecovery }[];
}
