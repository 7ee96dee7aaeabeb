import type { LocalTrack } from './LocalTrack.js';
import type { Source } from './types.js';
import type { RemoteTrack } from './RemoteTrack.js';

/**
 * Simplified WebRTC statistics of one track ({@link Room.getTrackStats}).
 * Counters are cumulative since the track started; rates (`bitrate`,
 * `packetLossPercent`) cover the time since the previous sample (the SDK
 * samples every `statsIntervalMs`, 2 s by default). Fields that do not apply
 * (e.g. `framesDecoded` of a local or audio track) are 0.
 */
export interface TrackStats {
	/** 'inbound': a received remote track; 'outbound': a published local track. */
	direction: 'inbound' | 'outbound';
	/** Peer id of the publisher. */
	participantId: string;
	producerId: string;
	/** The consumer's id for inbound tracks; null for outbound ones. */
	consumerId: string | null;
	kind: 'audio' | 'video';
	source: Source;
	/** Bits per second over the last interval (inbound: received; outbound: sent, all simulcast layers). */
	bitrate: number;
	/**
	 * Packets lost over the last interval, in percent. Inbound: measured by
	 * this browser. Outbound: as the server reported back (worst layer).
	 */
	packetLossPercent: number;
	/** Round-trip time to the SFU in seconds, when the browser measured one. */
	roundTripTime?: number;
	/** Inbound: interarrival jitter in seconds. */
	jitter: number;
	/** Video: current width in pixels (outbound: the largest layer being sent). */
	frameWidth: number;
	/** Video: current height in pixels. */
	frameHeight: number;
	/** Video: current frame rate. */
	framesPerSecond: number;
	/** Outbound video: why the browser lowers quality ('none', 'bandwidth', 'cpu', 'other'). */
	qualityLimitationReason?: string;
	/** Inbound: frames decoded. */
	framesDecoded: number;
	/** Inbound: RTP packets received. */
	packetsReceived: number;
	/** Inbound: payload bytes received. */
	bytesReceived: number;
	/** Inbound: packets lost, as reported by the receiver (cumulative). */
	packetsLost: number;
	/**
	 * Inbound audio: samples played that the receiver had to make up (lost or
	 * late packets), cumulative; `silentConcealedSamples` of them were silence
	 * (e.g. during DTX), so the audible share is
	 * (concealedSamples − silentConcealedSamples) / totalSamplesReceived.
	 */
	concealedSamples: number;
	silentConcealedSamples: number;
	/** Inbound audio: samples played, cumulative. */
	totalSamplesReceived: number;
	/** Inbound video: how often, and for how long in total (seconds), the picture froze. */
	freezeCount: number;
	totalFreezesDuration: number;
	/** Outbound: frames encoded (all simulcast layers). */
	framesEncoded: number;
	/** Outbound: RTP packets sent (all simulcast layers). */
	packetsSent: number;
	/** Outbound: payload bytes sent (all simulcast layers). */
	bytesSent: number;
	/** The path of the transport carrying this track (selected ICE candidate pair), once one is selected. */
	mediaPath?: MediaPath;
	/** With `mediaPath` 'relay': how this browser reaches the TURN server ('udp', 'tcp' or 'tls'). */
	relayProtocol?: string;
}

/**
 * How this browser's media reaches the server: directly over UDP (the best),
 * over ICE-TCP (UDP blocked), or through a TURN relay (only the TURN port
 * open, or direct paths failed).
 */
export type MediaPath = 'udp' | 'tcp' | 'relay';

type Stat = Record<string, unknown> & { type: string; id: string };

interface Sample {
	at: number;
	bytes: number;
	packets: number;
	lost: number;
}

/**
 * Turns cumulative counters into rates. Each key keeps its last two samples
 * so that two callers sampling close together (the quality monitor and the
 * application) still get a meaningful interval.
 */
export class StatsSampler {
	readonly #samples = new Map<string, [Sample | undefined, Sample]>();

	/** Rates for `key` since an earlier sample (at least 400 ms ago when there is one). */
	rates(key: string, now: Sample): { bitrate: number; lossPercent: number } {
		const entry = this.#samples.get(key);
		let base: Sample | undefined;
		if (!entry) {
			this.#samples.set(key, [undefined, now]);
		} else if (now.at - entry[1].at >= 400) {
			base = entry[1];
			this.#samples.set(key, [entry[1], now]);
		} else {
			base = entry[0];
		}
		if (!base || now.at <= base.at) return { bitrate: 0, lossPercent: 0 };
		const seconds = (now.at - base.at) / 1000;
		const bytes = Math.max(0, now.bytes - base.bytes);
		const packets = Math.max(0, now.packets - base.packets);
		const lost = Math.max(0, now.lost - base.lost);
		return { bitrate: Math.round((bytes * 8) / seconds), lossPercent: packets + lost > 0 ? (100 * lost) / (packets + lost) : 0 };
	}

	/** Forgets keys not in `live` (closed tracks). */
	retain(live: Set<string>): void {
		for (const key of this.#samples.keys()) if (!live.has(key)) this.#samples.delete(key);
	}
}

export async function inboundStats(track: RemoteTrack, sampler: StatsSampler): Promise<TrackStats> {
	const stats = base('inbound', track.participantId, track.producerId, track.consumerId, track.kind, track.source);
	const report = await track.getRtcStats();
	for (const s of values(report)) {
		if (s.type !== 'inbound-rtp' || s.kind !== track.kind) continue;
		stats.framesDecoded += num(s.framesDecoded);
		stats.packetsReceived += num(s.packetsReceived);
		stats.bytesReceived += num(s.bytesReceived);
		stats.packetsLost += Math.max(0, num(s.packetsLost));
		stats.concealedSamples += num(s.concealedSamples);
		stats.silentConcealedSamples += num(s.silentConcealedSamples);
		stats.totalSamplesReceived += num(s.totalSamplesReceived);
		stats.freezeCount += num(s.freezeCount);
		stats.totalFreezesDuration += num(s.totalFreezesDuration);
		stats.jitter = Math.max(stats.jitter, num(s.jitter));
		stats.frameWidth = Math.max(stats.frameWidth, num(s.frameWidth));
		stats.frameHeight = Math.max(stats.frameHeight, num(s.frameHeight));
		stats.framesPerSecond = Math.max(stats.framesPerSecond, num(s.framesPerSecond));
	}
	const rates = sampler.rates(`in:${track.consumerId}`, {
		at: performance.now(),
		bytes: stats.bytesReceived,
		packets: stats.packetsReceived,
		lost: stats.packetsLost,
	});
	stats.bitrate = rates.bitrate;
	stats.packetLossPercent = rates.lossPercent;
	const rtt = candidatePairRtt(report);
	if (rtt !== undefined) stats.roundTripTime = rtt;
	addPath(stats, report);
	return stats;
}

export async function outboundStats(track: LocalTrack, participantId: string, sampler: StatsSampler): Promise<TrackStats | undefined> {
	const producer = track.producer;
	if (!producer || producer.closed) return undefined;
	const stats = base('outbound', participantId, producer.id, null, track.kind, track.source);
	const report = await producer.getStats();
	const rtts: number[] = [];
	let fractionLost = 0;
	for (const s of values(report)) {
		if (s.type === 'outbound-rtp' && s.kind === track.kind) {
			stats.framesEncoded += num(s.framesEncoded);
			stats.packetsSent += num(s.packetsSent);
			stats.bytesSent += num(s.bytesSent);
			if (num(s.frameWidth) > stats.frameWidth) {
				stats.frameWidth = num(s.frameWidth);
				stats.frameHeight = num(s.frameHeight);
				stats.framesPerSecond = num(s.framesPerSecond);
			}
			if (typeof s.qualityLimitationReason === 'string' && s.qualityLimitationReason !== 'none') stats.qualityLimitationReason = s.qualityLimitationReason;
			else if (track.kind === 'video') stats.qualityLimitationReason ??= 'none';
		} else if (s.type === 'remote-inbound-rtp') {
			if (typeof s.roundTripTime === 'number') rtts.push(s.roundTripTime);
			fractionLost = Math.max(fractionLost, num(s.fractionLost));
		}
	}
	stats.bitrate = sampler.rates(`out:${producer.id}`, { at: performance.now(), bytes: stats.bytesSent, packets: stats.packetsSent, lost: 0 }).bitrate;
	stats.packetLossPercent = 100 * fractionLost;
	const rtt = rtts.length > 0 ? rtts.reduce((a, b) => a + b, 0) / rtts.length : candidatePairRtt(report);
	if (rtt !== undefined) stats.roundTripTime = rtt;
	addPath(stats, report);
	return stats;
}

function base(
	direction: TrackStats['direction'],
	participantId: string,
	producerId: string,
	consumerId: string | null,
	kind: TrackStats['kind'],
	source: Source,
): TrackStats {
	return {
		direction,
		participantId,
		producerId,
		consumerId,
		kind,
		source,
		bitrate: 0,
		packetLossPercent: 0,
		jitter: 0,
		frameWidth: 0,
		frameHeight: 0,
		framesPerSecond: 0,
		framesDecoded: 0,
		packetsReceived: 0,
		bytesReceived: 0,
		packetsLost: 0,
		concealedSamples: 0,
		silentConcealedSamples: 0,
		totalSamplesReceived: 0,
		freezeCount: 0,
		totalFreezesDuration: 0,
		framesEncoded: 0,
		packetsSent: 0,
		bytesSent: 0,
	};
}

/** The selected ICE candidate pair (the transport's, else a nominated one). */
function selectedPair(all: Stat[]): Stat | undefined {
	const transport = all.find((s) => s.type === 'transport' && typeof s.selectedCandidatePairId === 'string');
	return (
		(transport && all.find((s) => s.id === transport.selectedCandidatePairId)) ??
		all.find((s) => s.type === 'candidate-pair' && s.nominated === true && s.state === 'succeeded')
	);
}

/** RTT of the selected ICE candidate pair. */
function candidatePairRtt(report: RTCStatsReport): number | undefined {
	const pair = selectedPair(values(report));
	return pair && typeof pair.currentRoundTripTime === 'number' ? pair.currentRoundTripTime : undefined;
}

/**
 * The path of the selected pair, from this browser's side of it: a relay
 * candidate means TURN; otherwise the candidate's protocol (an ICE-TCP pair
 * has a TCP local candidate).
 */
export function mediaPathOf(report: RTCStatsReport): { path: MediaPath; relayProtocol?: string } | undefined {
	const all = values(report);
	const pair = selectedPair(all);
	const local = pair && all.find((s) => s.id === pair.localCandidateId);
	if (!local) return undefined;
	if (local.candidateType === 'relay') return { path: 'relay', ...(typeof local.relayProtocol === 'string' ? { relayProtocol: local.relayProtocol } : {}) };
	if (local.protocol === 'tcp') return { path: 'tcp' };
	if (local.protocol === 'udp') return { path: 'udp' };
	return undefined;
}

/** How much of a fallback a path is: relay over TCP over UDP. */
export function worsePath(a: MediaPath | undefined, b: MediaPath | undefined): MediaPath | undefined {
	const rank = (p: MediaPath | undefined): number => (p === undefined ? 0 : p === 'udp' ? 1 : p === 'tcp' ? 2 : 3);
	return rank(a) >= rank(b) ? a : b;
}

function addPath(stats: TrackStats, report: RTCStatsReport): void {
	const found = mediaPathOf(report);
	if (!found) return;
	stats.mediaPath = found.path;
	if (found.relayProtocol) stats.relayProtocol = found.relayProtocol;
}

function values(report: RTCStatsReport): Stat[] {
	const out: Stat[] = [];
	report.forEach((s: Stat) => out.push(s));
	return out;
}

function num(value: unknown): number {
	return typeof value === 'number' && Number.isFinite(value) ? value : 0;
}
