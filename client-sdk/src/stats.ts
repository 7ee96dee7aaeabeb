import type { LocalTrack } from './LocalTrack.js';
import type { Source } from './protocol.js';
import type { RemoteParticipant } from './RemoteParticipant.js';
import type { RemoteTrack } from './RemoteTrack.js';

/**
 * Simplified WebRTC statistics of one track ({@link Room.getTrackStats}).
 * Counters are cumulative since the track started; fields that do not apply
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
	/** Inbound: frames decoded. */
	framesDecoded: number;
	/** Inbound: RTP packets received. */
	packetsReceived: number;
	/** Inbound: payload bytes received. */
	bytesReceived: number;
	/** Inbound: packets lost, as reported by the receiver. */
	packetsLost: number;
	/** Outbound: frames encoded (all simulcast layers). */
	framesEncoded: number;
	/** Outbound: RTP packets sent (all simulcast layers). */
	packetsSent: number;
	/** Outbound: payload bytes sent (all simulcast layers). */
	bytesSent: number;
	/** Video: current width in pixels (outbound: the largest layer). */
	frameWidth: number;
	/** Video: current height in pixels. */
	frameHeight: number;
	/** Video: current frame rate. */
	framesPerSecond: number;
	/** Round-trip time to the SFU in seconds, when the browser measured one. */
	roundTripTime?: number;
}

type Stat = Record<string, unknown> & { type: string; id: string };

export async function inboundStats(track: RemoteTrack, participant: RemoteParticipant): Promise<TrackStats> {
	const stats = base('inbound', participant.id, track.producerId, track.consumerId, track.kind, track.source);
	const report = await track.getRtcStats();
	for (const s of values(report)) {
		if (s.type !== 'inbound-rtp' || s.kind !== track.kind) continue;
		stats.framesDecoded += num(s.framesDecoded);
		stats.packetsReceived += num(s.packetsReceived);
		stats.bytesReceived += num(s.bytesReceived);
		stats.packetsLost += num(s.packetsLost);
		stats.frameWidth = Math.max(stats.frameWidth, num(s.frameWidth));
		stats.frameHeight = Math.max(stats.frameHeight, num(s.frameHeight));
		stats.framesPerSecond = Math.max(stats.framesPerSecond, num(s.framesPerSecond));
	}
	const rtt = candidatePairRtt(report);
	if (rtt !== undefined) stats.roundTripTime = rtt;
	return stats;
}

export async function outboundStats(track: LocalTrack, participantId: string): Promise<TrackStats | undefined> {
	const producer = track.producer;
	if (!producer || producer.closed) return undefined;
	const stats = base('outbound', participantId, producer.id, null, track.kind, track.source);
	const report = await producer.getStats();
	const rtts: number[] = [];
	for (const s of values(report)) {
		if (s.type === 'outbound-rtp' && s.kind === track.kind) {
			stats.framesEncoded += num(s.framesEncoded);
			stats.packetsSent += num(s.packetsSent);
			stats.bytesSent += num(s.bytesSent);
			stats.frameWidth = Math.max(stats.frameWidth, num(s.frameWidth));
			stats.frameHeight = Math.max(stats.frameHeight, num(s.frameHeight));
			stats.framesPerSecond = Math.max(stats.framesPerSecond, num(s.framesPerSecond));
		} else if (s.type === 'remote-inbound-rtp' && typeof s.roundTripTime === 'number') {
			rtts.push(s.roundTripTime);
		}
	}
	const rtt = rtts.length > 0 ? rtts.reduce((a, b) => a + b, 0) / rtts.length : candidatePairRtt(report);
	if (rtt !== undefined) stats.roundTripTime = rtt;
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
		framesDecoded: 0,
		packetsReceived: 0,
		bytesReceived: 0,
		packetsLost: 0,
		framesEncoded: 0,
		packetsSent: 0,
		bytesSent: 0,
		frameWidth: 0,
		frameHeight: 0,
		framesPerSecond: 0,
	};
}

/** RTT of the selected ICE candidate pair (the transport's, else a nominated one). */
function candidatePairRtt(report: RTCStatsReport): number | undefined {
	const all = values(report);
	const transport = all.find((s) => s.type === 'transport' && typeof s.selectedCandidatePairId === 'string');
	const pair =
		(transport && all.find((s) => s.id === transport.selectedCandidatePairId)) ??
		all.find((s) => s.type === 'candidate-pair' && s.nominated === true && s.state === 'succeeded');
	return pair && typeof pair.currentRoundTripTime === 'number' ? pair.currentRoundTripTime : undefined;
}

function values(report: RTCStatsReport): Stat[] {
	const out: Stat[] = [];
	report.forEach((s: Stat) => out.push(s));
	return out;
}

function num(value: unknown): number {
	return typeof value === 'number' && Number.isFinite(value) ? value : 0;
}
