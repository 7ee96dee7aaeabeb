import type { LocalParticipant } from './LocalParticipant.js';
import type { RemoteParticipant } from './RemoteParticipant.js';
import type { RemoteTrack } from './RemoteTrack.js';
import { ConnectionQuality, RoomEvent, TrackStreamState, VideoQuality, type RoomEventMap } from './RoomEvent.js';
import { inboundStats, outboundStats, StatsSampler, worsePath, type MediaPath, type TrackStats } from './stats.js';
import type { TypedEmitter } from './TypedEmitter.js';
import { MEDIA_PROFILES } from '../../worker-config/profiles.js';

/** @internal What the monitor reads from its room. */
export interface QualityMonitorContext {
	readonly events: TypedEmitter<RoomEventMap>;
	readonly local: LocalParticipant;
	/** Received tracks with their participants. */
	tracks(): Iterable<[RemoteTrack, RemoteParticipant]>;
	participants(): Iterable<RemoteParticipant>;
	/** False while signaling or media is down (this participant's quality is then 'lost'). */
	mediaUp(): boolean;
}

/** Thresholds of {@link ConnectionQuality}: loss in percent, RTT in seconds, jitter in seconds. */
const GOOD = { loss: 2, rtt: 0.25, jitter: 0.03 };
const POOR = { loss: 10, rtt: 0.5, jitter: 0.1 };
/** Samples in a row before raising quality again. */
const RECOVERY_SAMPLES = 3;
/** Samples in a row before lowering it: one lossy report is often a burst, not a weak link. */
const DEGRADE_SAMPLES = 2;
/** Samples ignored for degradation after media came back: loss reports still describe the outage. */
const SETTLE_SAMPLES = 2;
/** The camera's lowest layer bitrate (profiles.ts): an uplink estimate below it is starved. */
const LOWEST_LAYER_BITRATE = MEDIA_PROFILES.consult.video.encodings[0].maxBitrate;
/** How long cameras paused for a weak downlink stay paused before a retry, ms (doubling per pause, up to the max). */
const PAUSE_HOLD_MS = 20_000;
const PAUSE_HOLD_MAX_MS = 120_000;
/** A received camera video at fewer frames per second than this, on a lossy link, is crawling. */
const CRAWLING_FPS = 3;
/** Share of a sample interval a received camera video spent frozen that counts as congestion. */
const FROZEN_SHARE = 0.2;
/** Received audio losing at least this much (%) over a round trip of at least VOICE_RTT_S gets a deeper jitter buffer. */
const VOICE_LOSS = 1;
const VOICE_RTT_S = 0.15;
/** The deepest jitter buffer asked for (ms): past it, a conversation is no longer one. */
const VOICE_MAX_BUFFER_MS = 1000;
/** The round trip assumed for a lossy publisher's uplink, ms (a phone on a weak cellular link). */
const WEAK_UPLINK_RTT_MS = 500;
/** Clean samples in a row before a deepened jitter buffer goes back to the browser's own (loss comes in spells). */
const VOICE_RECOVERY_SAMPLES = 10;
/** Samples in a row without a packet before a remote participant is 'lost'. */
const LOST_SAMPLES = 2;

/**
 * Samples WebRTC statistics every `intervalMs` and turns them into what a
 * person and the SDK act on:
 * - a {@link ConnectionQuality} per participant ({@link RoomEvent.ConnectionQualityChanged});
 * - graceful degradation: on a lossy downlink, received videos are capped to
 *   lower simulcast layers, then cameras pause while audio (which the server
 *   also prioritises) keeps flowing; on a lossy uplink, the top simulcast
 *   layers stop being sent. Both recover step by step once the link is clean.
 * It also re-measures attached elements for adaptive stream (every second).
 */
export class QualityMonitor {
	readonly #context: QualityMonitorContext;
	readonly #intervalMs: number;
	readonly sampler = new StatsSampler();
	#statsTimer: ReturnType<typeof setInterval> | undefined;
	#layoutTimer: ReturnType<typeof setInterval> | undefined;
	#sampling = false;
	readonly #silentSamples = new Map<string, number>();
	#downCap = VideoQuality.High;
	#downPaused = false;
	#downBetter = 0;
	#downWorse = 0;
	#downPoorAtLow = 0;
	#upLimit = VideoQuality.High;
	#upWeak = false;
	#upWeakCount = 0;
	#upBetter = 0;
	#upWorse = 0;
	#settling = 0;
	/** Per received camera video: its freeze counter at the previous sample (seconds) and when. */
	readonly #freezes = new Map<string, { total: number; at: number }>();
	/** Cameras paused for the downlink stay paused until then (performance.now()), holding longer each time. */
	#pausedUntil = 0;
	/** Per received audio consumer with a deepened jitter buffer: its target (ms) and clean samples in a row since. */
	readonly #voiceProtected = new Map<string, { target: number; clean: number }>();
	#pauseHoldMs = 0;

	constructor(context: QualityMonitorContext, intervalMs: number) {
		this.#context = context;
		this.#intervalMs = intervalMs;
	}

	start(): void {
		if (this.#statsTimer) return;
		this.#statsTimer = setInterval(() => void this.sample(), this.#intervalMs);
		this.#layoutTimer = setInterval(() => this.measureLayout(), 1000);
	}

	stop(): void {
		clearInterval(this.#statsTimer);
		clearInterval(this.#layoutTimer);
		this.#statsTimer = undefined;
		this.#layoutTimer = undefined;
	}

	/**
	 * Media just came back (reconnected): the next loss reports still count
	 * the outage's gap, so they must not lower any layer.
	 */
	settle(): void {
		this.#settling = SETTLE_SAMPLES;
		this.#silentSamples.clear();
		this.#downWorse = 0;
		this.#upWorse = 0;
	}

	/** Adaptive stream: every received video re-checks the elements it is shown in. */
	measureLayout(): void {
		for (const [track] of this.#context.tracks()) track.measure();
	}

	/** Fresh statistics of every received and published track. */
	async collect(): Promise<TrackStats[]> {
		const { local } = this.#context;
		const inbound = [...this.#context.tracks()].map(([track]) => inboundStats(track, this.sampler).catch(() => undefined));
		const outbound = [...local.tracks.values()].map((track) => outboundStats(track, local.id, this.sampler).catch(() => undefined));
		const all = await Promise.all([...inbound, ...outbound]);
		return all.filter((s): s is TrackStats => s !== undefined);
	}

	/** One round: stats → qualities → degradation. */
	async sample(): Promise<void> {
		if (this.#sampling) return;
		this.#sampling = true;
		try {
			const stats = await this.collect();
			this.sampler.retain(new Set(stats.map((s) => (s.direction === 'inbound' ? `in:${s.consumerId}` : `out:${s.producerId}`))));
			this.#updateRemoteQualities(stats);
			this.#updateLocal(stats);
		} finally {
			this.#sampling = false;
		}
	}

	#updateRemoteQualities(stats: TrackStats[]): void {
		const { events } = this.#context;
		const tracks = new Map([...this.#context.tracks()].map(([t]) => [t.consumerId, t]));
		for (const participant of this.#context.participants()) {
			// Only tracks that should carry media: not muted by their sender, not paused by us.
			const expected = stats.filter((s) => {
				const track = s.consumerId ? tracks.get(s.consumerId) : undefined;
				return s.direction === 'inbound' && s.participantId === participant.id && track && !track.muted && track.streamState === TrackStreamState.Active;
			});
			let quality = ConnectionQuality.Unknown;
			if (expected.length > 0) {
				const silent = expected.every((s) => s.bitrate === 0);
				const count = silent ? (this.#silentSamples.get(participant.id) ?? 0) + 1 : 0;
				this.#silentSamples.set(participant.id, count);
				quality = count >= LOST_SAMPLES ? ConnectionQuality.Lost : silent ? participant.connectionQuality : grade(expected);
				// The server scores the publisher's uplink: a weak one shows even when this link is clean.
				const uplink = Math.min(...expected.map((s) => tracks.get(s.consumerId!)?.score?.producerScore ?? 10));
				if (quality !== ConnectionQuality.Lost) quality = worse(quality, uplink <= 4 ? ConnectionQuality.Poor : uplink <= 7 ? ConnectionQuality.Good : ConnectionQuality.Excellent);
			} else {
				this.#silentSamples.delete(participant.id);
			}
			const path = expected.reduce<MediaPath | undefined>((worst, s) => worsePath(worst, s.mediaPath), undefined);
			if (participant.setConnectionQuality(quality)) events.emit(RoomEvent.ConnectionQualityChanged, quality, participant, path);
		}
	}

	#updateLocal(stats: TrackStats[]): void {
		const { local, events } = this.#context;
		const outbound = stats.filter((s) => s.direction === 'outbound');
		const inbound = stats.filter((s) => s.direction === 'inbound' && s.bitrate > 0);
		let quality: ConnectionQuality;
		if (!this.#context.mediaUp()) quality = ConnectionQuality.Lost;
		else if (outbound.length + inbound.length === 0) quality = ConnectionQuality.Unknown;
		else quality = grade([...outbound, ...inbound]);
		const previousPath = local.mediaPath;
		const path = stats.reduce<MediaPath | undefined>((worst, s) => worsePath(worst, s.mediaPath), undefined);
		// Keep the last known path while media is down: it says how the call was reaching the server.
		if (path !== undefined && local.setMediaPath(path)) events.emit(RoomEvent.MediaPathChanged, path, previousPath);
		if (local.setConnectionQuality(quality)) events.emit(RoomEvent.ConnectionQualityChanged, quality, local, local.mediaPath);
		if (quality === ConnectionQuality.Lost || quality === ConnectionQuality.Unknown) return;
		if (this.#settling > 0) {
			this.#settling--;
			return;
		}
		this.#degradeDownlink(inbound);
		this.#protectVoice(inbound);
		this.#degradeUplink(outbound);
	}

	/**
	 * Received videos: fewer layers as loss grows, then cameras pause (audio
	 * first). Only this browser's downlink counts: what a publisher lost on its
	 * own uplink (the server's producer score says how much) is not fixed by
	 * receiving less here.
	 */
	#degradeDownlink(inbound: TrackStats[]): void {
		if (inbound.length === 0) return;
		const tracks = new Map([...this.#context.tracks()].map(([t]) => [t.consumerId, t]));
		const loss = Math.max(...inbound.map((s) => Math.max(0, s.packetLossPercent - upstreamLossPercent(tracks.get(s.consumerId ?? '')?.score?.producerScore))));
		let target = layerFor(loss);
		// A picture that freezes is congestion the loss may not show yet (the server's
		// estimate gave video what audio needed): one layer below what arrives now.
		const now = performance.now();
		for (const s of inbound) {
			if (s.kind !== 'video' || s.source !== 'camera' || !s.consumerId) continue;
			const before = this.#freezes.get(s.consumerId);
			this.#freezes.set(s.consumerId, { total: s.totalFreezesDuration, at: now });
			const track = tracks.get(s.consumerId);
			// Freezes without any loss are this machine's (a busy decoder), not the link's.
			if (!before || !track || (track.score?.producerScore ?? 10) < 8 || loss < 1) continue;
			const frozenShare = (s.totalFreezesDuration - before.total) / Math.max(0.5, (now - before.at) / 1000);
			if (frozenShare >= FROZEN_SHARE) target = Math.min(target, Math.max(VideoQuality.Low, (track.currentLayers.spatial ?? this.#downCap) - 1));
		}
		if (target < this.#downCap) {
			this.#downBetter = 0;
			if (++this.#downWorse >= DEGRADE_SAMPLES) {
				this.#downCap = target;
				this.#downWorse = 0;
			}
		} else if (target > this.#downCap) {
			this.#downWorse = 0;
			if (++this.#downBetter >= RECOVERY_SAMPLES) {
				this.#downCap++;
				this.#downBetter = 0;
			}
		} else {
			this.#downBetter = 0;
			this.#downWorse = 0;
		}
		// Already at the lowest layer and still losing, freezing, or crawling (fewer frames than the
		// lowest layer's lowest temporal layer gives: a slide show, not a picture): video gives way to audio.
		const crawling = inbound.some((s) => {
			const track = s.consumerId ? tracks.get(s.consumerId) : undefined;
			return s.kind === 'video' && s.source === 'camera' && loss >= 1 && s.framesPerSecond > 0 && s.framesPerSecond < CRAWLING_FPS && (track?.score?.producerScore ?? 10) >= 8;
		});
		const struggling = loss >= POOR.loss || crawling || (target === VideoQuality.Low && layerFor(loss) > VideoQuality.Low);
		this.#downPoorAtLow = this.#downCap === VideoQuality.Low && struggling ? this.#downPoorAtLow + 1 : 0;
		if (!this.#downPaused && this.#downPoorAtLow >= RECOVERY_SAMPLES) {
			// Paused cleanly, and kept paused a while: trying again too soon is a picture that freezes and jumps.
			this.#downPaused = true;
			this.#pauseHoldMs = Math.min(PAUSE_HOLD_MAX_MS, this.#pauseHoldMs * 2 || PAUSE_HOLD_MS);
			this.#pausedUntil = now + this.#pauseHoldMs;
		} else if (this.#downPaused && this.#downCap > VideoQuality.Low && now >= this.#pausedUntil) {
			this.#downPaused = false;
		} else if (!this.#downPaused && this.#downCap > VideoQuality.Low) {
			this.#pauseHoldMs = 0;
		}
		for (const [track] of this.#context.tracks()) track.setDownlinkLimit(this.#downCap, this.#downPaused);
	}

	/**
	 * Received voice on a lossy, slow downlink: Opus FEC cannot help there (the server ends
	 * RTCP, so the sender never hears of this leg's loss) and a retransmission takes a round
	 * trip, longer than the browser's jitter buffer holds. Deepen the buffer to a round trip
	 * plus a margin while the loss lasts: late is intelligible, concealed is not.
	 */
	#protectVoice(inbound: TrackStats[]): void {
		const tracks = new Map([...this.#context.tracks()].map(([t]) => [t.consumerId, t]));
		for (const s of inbound) {
			if (s.kind !== 'audio' || !s.consumerId) continue;
			const track = tracks.get(s.consumerId);
			if (!track) continue;
			const rtt = s.roundTripTime ?? 0;
			const ownLeg = s.packetLossPercent >= VOICE_LOSS && rtt >= VOICE_RTT_S;
			// The publisher's uplink loses too (the server's producer score): its retransmissions
			// take that leg's round trip, which this browser cannot see; a weak uplink's is long.
			const publisherLeg = upstreamLossPercent(track.score?.producerScore) >= VOICE_LOSS;
			if (ownLeg || publisherLeg) {
				const wanted = Math.max(ownLeg ? rtt * 1000 + 100 : 0, publisherLeg ? WEAK_UPLINK_RTT_MS + rtt * 1000 : 0);
				// Set once per spell of loss, with a margin: every change of the audio delay makes the
				// video re-synchronise to it (a freeze), so it must not follow the round trip's swings.
				const target = this.#voiceProtected.get(s.consumerId)?.target ?? Math.min(VOICE_MAX_BUFFER_MS, Math.ceil((wanted + 100) / 100) * 100);
				this.#voiceProtected.set(s.consumerId, { target, clean: 0 });
				track.setJitterBufferTarget(target);
			} else {
				const protection = this.#voiceProtected.get(s.consumerId);
				if (!protection) continue;
				if (++protection.clean >= VOICE_RECOVERY_SAMPLES) {
					this.#voiceProtected.delete(s.consumerId);
					track.setJitterBufferTarget(null);
				}
			}
		}
		for (const id of this.#voiceProtected.keys()) if (!tracks.has(id)) this.#voiceProtected.delete(id);
	}

	/** Published simulcast: stop sending the top layers while the server reports loss. */
	#degradeUplink(outbound: TrackStats[]): void {
		const video = outbound.filter((s) => s.kind === 'video');
		if (video.length === 0) return;
		const target = layerFor(Math.max(...video.map((s) => s.packetLossPercent)));
		if (target < this.#upLimit) {
			this.#upBetter = 0;
			if (++this.#upWorse >= DEGRADE_SAMPLES) {
				this.#upLimit = target;
				this.#upWorse = 0;
			}
		} else if (target > this.#upLimit) {
			this.#upWorse = 0;
			if (++this.#upBetter >= RECOVERY_SAMPLES) {
				this.#upLimit++;
				this.#upBetter = 0;
			}
		} else {
			this.#upBetter = 0;
			this.#upWorse = 0;
		}
		this.#context.local.setUplinkLimit(this.#upLimit);
		// The browser's own estimate cannot even carry the lowest layer: send it with fewer frames and bits.
		const camera = video.find((s) => s.source === 'camera');
		const starved = !!camera && camera.qualityLimitationReason === 'bandwidth' && camera.bitrate < LOWEST_LAYER_BITRATE;
		this.#upWeakCount = starved === this.#upWeak ? 0 : this.#upWeakCount + 1;
		if (this.#upWeakCount >= (starved ? DEGRADE_SAMPLES : RECOVERY_SAMPLES)) {
			this.#upWeak = starved;
			this.#upWeakCount = 0;
		}
		this.#context.local.setWeakUplink(this.#upWeak);
	}
}

const ORDER = [ConnectionQuality.Excellent, ConnectionQuality.Good, ConnectionQuality.Poor, ConnectionQuality.Lost];
function worse(a: ConnectionQuality, b: ConnectionQuality): ConnectionQuality {
	return ORDER.indexOf(a) >= ORDER.indexOf(b) ? a : b;
}

/**
 * The loss on a publisher's uplink that a server producer score (0..10)
 * stands for: mediasoup scores a stream round(10 × delivered⁴).
 */
export function upstreamLossPercent(producerScore: number | undefined): number {
	if (producerScore === undefined || producerScore >= 10) return 0;
	return 100 * (1 - Math.pow(Math.max(0, producerScore) / 10, 0.25));
}

function layerFor(lossPercent: number): VideoQuality {
	if (lossPercent >= POOR.loss) return VideoQuality.Low;
	if (lossPercent >= GOOD.loss + 1) return VideoQuality.Medium;
	return VideoQuality.High;
}

/** Grades a set of track statistics by their worst loss, round trip and jitter. */
export function grade(stats: TrackStats[]): ConnectionQuality {
	const loss = Math.max(0, ...stats.map((s) => s.packetLossPercent));
	const rtt = Math.max(0, ...stats.map((s) => s.roundTripTime ?? 0));
	const jitter = Math.max(0, ...stats.filter((s) => s.kind === 'audio').map((s) => s.jitter));
	if (loss >= POOR.loss || rtt >= POOR.rtt || jitter >= POOR.jitter) return ConnectionQuality.Poor;
	if (loss >= GOOD.loss || rtt >= GOOD.rtt || jitter >= GOOD.jitter) return ConnectionQuality.Good;
	return ConnectionQuality.Excellent;
}
