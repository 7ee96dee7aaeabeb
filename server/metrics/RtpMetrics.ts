import type { types } from 'mediasoup';
import { Counter, Histogram, type Registry } from 'prom-client';
import type { TrackedConsumer, TrackedObject, TrackedProducer, TrackedTransport } from './MediaObjects.js';
import type { RtpStreamSample, SamplerTick, StatsSink, TransportStatsSample } from './StatsSampler.js';

type Direction = 'in' | 'out';
type Cumulative = Pick<RtpStreamSample, 'packetCount' | 'byteCount' | 'packetsLost' | 'nackCount' | 'pliCount' | 'firCount'>;
const CUMULATIVE_FIELDS = ['packetCount', 'byteCount', 'packetsLost', 'nackCount', 'pliCount', 'firCount'] as const;

export interface RtpMetricsOptions {
	/** The opaque room label of a router, when per-room metrics are on. */
	roomOf?: (router: types.Router) => string | undefined;
}

/**
 * Turns sampled mediasoup stats into Prometheus series. mediasoup's counters
 * are cumulative per stream; each sample adds what grew since the previous
 * one to node-wide counters labelled only by direction (`in`: publisher →
 * SFU, `out`: SFU → subscriber or recorder), media kind and transport type.
 */
export class RtpMetrics implements StatsSink {
	readonly #previous = new WeakMap<object, Map<number, Cumulative>>();
	readonly #previousTransport = new WeakMap<object, { bytesReceived: number; bytesSent: number }>();
	readonly #roomOf: RtpMetricsOptions['roomOf'];
	readonly #packets: Counter<'direction' | 'kind' | 'transport'>;
	readonly #bytes: Counter<'direction' | 'kind' | 'transport'>;
	readonly #lost: Counter<'direction' | 'kind' | 'transport'>;
	readonly #nack: Counter<'direction' | 'kind' | 'transport'>;
	readonly #pli: Counter<'direction' | 'kind' | 'transport'>;
	readonly #fir: Counter<'direction' | 'kind' | 'transport'>;
	readonly #rtt: Histogram<'direction'>;
	readonly #jitter: Histogram<'kind'>;
	readonly #score: Histogram<'direction' | 'kind'>;
	readonly #transportBytes: Counter<'direction' | 'type'>;
	readonly #outgoingBitrate: Histogram;
	readonly #roomBytes: Counter<'room' | 'direction'> | null;
	readonly #roomLost: Counter<'room' | 'direction'> | null;
	readonly #passSeconds: Histogram;
	readonly #sampledTotal: Counter;
	readonly #errorsTotal: Counter;
	readonly #deferredTotal: Counter;

	constructor(registry: Registry, options: RtpMetricsOptions = {}) {
		this.#roomOf = options.roomOf;
		const registers = [registry];
		const labelNames = ['direction', 'kind', 'transport'] as const;
		const counter = (name: string, help: string) => new Counter({ name, help, labelNames, registers });
		this.#packets = counter('sfu_rtp_packets_total', 'RTP packets through the SFU (in: received from publishers; out: sent to subscribers and recorders).');
		this.#bytes = counter('sfu_rtp_bytes_total', 'RTP payload+header bytes through the SFU, by direction, kind and transport type.');
		this.#lost = counter('sfu_rtp_packets_lost_total', 'RTP packets lost (in: gaps the SFU saw from publishers; out: losses subscribers reported in RTCP).');
		this.#nack = counter('sfu_rtp_nack_total', 'RTCP NACKs (in: sent by the SFU to publishers; out: received from subscribers).');
		this.#pli = counter('sfu_rtp_pli_total', 'RTCP picture loss indications (in: sent to publishers; out: received from subscribers).');
		this.#fir = counter('sfu_rtp_fir_total', 'RTCP full intra requests (in: sent to publishers; out: received from subscribers).');
		this.#rtt = new Histogram({
			name: 'sfu_rtp_round_trip_seconds',
			help: 'Round-trip time of RTP streams from RTCP, one observation per stream per sample.',
			labelNames: ['direction'],
			buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.15, 0.2, 0.3, 0.5, 1],
			registers,
		});
		this.#jitter = new Histogram({
			name: 'sfu_rtp_jitter_seconds',
			help: 'Interarrival jitter of streams received from publishers, one observation per stream per sample.',
			labelNames: ['kind'],
			buckets: [0.002, 0.005, 0.01, 0.02, 0.03, 0.05, 0.1, 0.2],
			registers,
		});
		this.#score = new Histogram({
			name: 'sfu_rtp_stream_score',
			help: "mediasoup's 0-10 quality score of RTP streams (10: no loss), one observation per stream per sample.",
			labelNames: ['direction', 'kind'],
			buckets: [2, 4, 6, 8, 9, 10],
			registers,
		});
		this.#transportBytes = new Counter({
			name: 'sfu_transport_bytes_total',
			help: 'Bytes through transports, RTP, RTCP, ICE and DTLS included (in: received; out: sent), by transport type.',
			labelNames: ['direction', 'type'],
			registers,
		});
		this.#outgoingBitrate = new Histogram({
			name: 'sfu_transport_available_outgoing_bitrate_bps',
			help: "Bandwidth estimate towards each WebRTC subscriber (its downlink as the SFU sees it), one observation per transport per sample.",
			buckets: [100e3, 250e3, 500e3, 1e6, 2e6, 4e6, 8e6, 16e6],
			registers,
		});
		const perRoom = options.roomOf !== undefined;
		this.#roomBytes = perRoom
			? new Counter({ name: 'sfu_room_rtp_bytes_total', help: 'RTP bytes per room (opt-in: METRICS_ROOM_LABELS).', labelNames: ['room', 'direction'], registers })
			: null;
		this.#roomLost = perRoom
			? new Counter({ name: 'sfu_room_rtp_packets_lost_total', help: 'RTP packets lost per room (opt-in: METRICS_ROOM_LABELS).', labelNames: ['room', 'direction'], registers })
			: null;
		this.#passSeconds = new Histogram({
			name: 'sfu_stats_sample_pass_seconds',
			help: 'Wall time of one mediasoup stats sampling pass.',
			buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
			registers,
		});
		this.#sampledTotal = new Counter({ name: 'sfu_stats_sampled_objects_total', help: 'mediasoup objects whose getStats() was sampled.', registers });
		this.#errorsTotal = new Counter({ name: 'sfu_stats_sample_errors_total', help: 'getStats() calls that failed (objects closing meanwhile excluded).', registers });
		this.#deferredTotal = new Counter({
			name: 'sfu_stats_deferred_objects_total',
			help: 'Objects left for a later pass because a pass reached METRICS_STATS_MAX_OBJECTS.',
			registers,
		});
	}

	/** Drops a closed room's series (opt-in per-room metrics only). */
	forgetRoom(room: string): void {
		for (const direction of ['in', 'out'] as const) {
			this.#roomBytes?.remove({ room, direction });
			this.#roomLost?.remove({ room, direction });
		}
	}

	transport(tracked: TrackedTransport, stats: TransportStatsSample): void {
		const before = this.#previousTransport.get(tracked.object) ?? { bytesReceived: 0, bytesSent: 0 };
		this.#transportBytes.inc({ direction: 'in', type: tracked.transportType }, grow(before.bytesReceived, stats.bytesReceived));
		this.#transportBytes.inc({ direction: 'out', type: tracked.transportType }, grow(before.bytesSent, stats.bytesSent));
		this.#previousTransport.set(tracked.object, { bytesReceived: stats.bytesReceived, bytesSent: stats.bytesSent });
		if (tracked.transportType === 'webrtc' && typeof stats.availableOutgoingBitrate === 'number' && stats.availableOutgoingBitrate > 0) {
			this.#outgoingBitrate.observe(stats.availableOutgoingBitrate);
		}
	}

	producer(tracked: TrackedProducer, streams: RtpStreamSample[]): void {
		this.#streams(tracked, 'in', streams);
		for (const stream of streams) {
			if (typeof stream.jitter === 'number' && tracked.kind !== 'other') this.#jitter.observe({ kind: tracked.kind }, stream.jitter / tracked.clockRate);
		}
	}

	consumer(tracked: TrackedConsumer, streams: RtpStreamSample[]): void {
		this.#streams(tracked, 'out', streams);
	}

	tick(report: SamplerTick): void {
		this.#passSeconds.observe(report.durationMs / 1000);
		this.#sampledTotal.inc(report.sampled);
		this.#errorsTotal.inc(report.errors);
		this.#deferredTotal.inc(report.deferred);
	}

	#streams(tracked: TrackedProducer | TrackedConsumer, direction: Direction, streams: RtpStreamSample[]): void {
		let previous = this.#previous.get(tracked.object);
		if (!previous) this.#previous.set(tracked.object, (previous = new Map<number, Cumulative>()));
		const labels = { direction, kind: tracked.kind, transport: tracked.transportType };
		const room = this.#roomOf?.(tracked.router);
		for (const stream of streams) {
			const before = previous.get(stream.ssrc);
			const delta = (field: (typeof CUMULATIVE_FIELDS)[number]): number => grow(before?.[field] ?? 0, stream[field]);
			const lost = delta('packetsLost');
			const bytes = delta('byteCount');
			this.#packets.inc(labels, delta('packetCount'));
			this.#bytes.inc(labels, bytes);
			this.#lost.inc(labels, lost);
			this.#nack.inc(labels, delta('nackCount'));
			this.#pli.inc(labels, delta('pliCount'));
			this.#fir.inc(labels, delta('firCount'));
			if (room) {
				this.#roomBytes?.inc({ room, direction }, bytes);
				this.#roomLost?.inc({ room, direction }, lost);
			}
			previous.set(stream.ssrc, Object.fromEntries(CUMULATIVE_FIELDS.map((f) => [f, stream[f]])) as Cumulative);
			if (typeof stream.roundTripTime === 'number') this.#rtt.observe({ direction }, stream.roundTripTime / 1000);
			if (tracked.kind !== 'other') this.#score.observe({ direction, kind: tracked.kind }, stream.score);
		}
	}
}

/**
 * What a cumulative counter grew by. A counter that went down (RTCP's
 * cumulative loss may, after duplicates) adds nothing and restarts the base.
 */
function grow(before: number, now: number): number {
	return Number.isFinite(now) && now > before ? now - before : 0;
}

export type { TrackedObject };
