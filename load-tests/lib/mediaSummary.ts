/** Aggregates media-bot reports into the numbers a run prints and stores. */
import type { BotReport } from './MediaBot.js';
import { fmt, summarize, type Summary } from './measure.js';

export interface MediaSummary {
	bots: number;
	started: number;
	failed: number;
	/** First few start errors, verbatim. */
	errors: string[];
	connectMs: Summary;
	joinMs: Summary;
	publishMs: Summary;
	perKind: Record<
		'audio' | 'video',
		{
			tracks: number;
			/** Tracks that never received a packet. */
			silent: number;
			firstPacketMs: Summary;
			/** Learning of the producer → first key frame received: when a decoder could first draw. */
			firstKeyFrameMs: Summary;
			/** Loss over all tracks (Σ lost / Σ expected) and the worst single track, %. */
			lossPct: number;
			worstLossPct: number;
			/** Received bitrate per track, kbit/s (payload bytes over the time each was heard). */
			kbps: number;
			packets: number;
		}
	>;
}

/** One bot's outcome: its report, or the error that kept it from starting (a BotFleet report fits). */
export interface BotOutcome {
	report: BotReport | null;
	error?: string;
}

export function summarizeMedia(reports: BotOutcome[]): MediaSummary {
	const ok = reports.filter((r) => r.report !== null && !r.error);
	const tracks = ok.flatMap((r) => r.report!.tracks);
	const kind = (k: 'audio' | 'video'): MediaSummary['perKind']['audio'] => {
		const mine = tracks.filter((t) => t.kind === k);
		const heard = mine.filter((t) => t.packets > 0);
		const lost = heard.reduce((s, t) => s + t.lost, 0);
		const packets = heard.reduce((s, t) => s + t.packets, 0);
		return {
			tracks: mine.length,
			silent: mine.length - heard.length,
			firstPacketMs: summarize(heard.map((t) => t.firstPacketMs!)),
			firstKeyFrameMs: summarize(heard.filter((t) => t.firstKeyFrameMs !== null).map((t) => t.firstKeyFrameMs!)),
			lossPct: packets + lost > 0 ? (100 * lost) / (packets + lost) : NaN,
			worstLossPct: Math.max(0, ...heard.map((t) => (100 * t.lost) / (t.packets + t.lost))),
			// Over tracks heard for at least 2 s: a short one is mostly its first key frame.
			kbps: ((long) => (long.length ? (8 * long.reduce((s, t) => s + t.bytes, 0)) / long.reduce((s, t) => s + t.spanMs, 0) : NaN))(heard.filter((t) => t.spanMs >= 2000)),
			packets,
		};
	};
	return {
		bots: reports.length,
		started: ok.length,
		failed: reports.length - ok.length,
		errors: [...new Set(reports.flatMap((r) => [...(r.error ? [r.error] : []), ...(r.report?.errors ?? [])]))].slice(0, 5),
		connectMs: summarize(ok.map((r) => r.report!.connectMs)),
		joinMs: summarize(ok.map((r) => r.report!.joinMs)),
		publishMs: summarize(ok.filter((r) => r.report!.publishMs !== null).map((r) => r.report!.publishMs!)),
		perKind: { audio: kind('audio'), video: kind('video') },
	};
}

/** A few printable lines. */
export function formatMedia(s: MediaSummary): string {
	const p = (x: Summary): string => `p50 ${fmt(x.p50, 0)} / p95 ${fmt(x.p95, 0)} / p99 ${fmt(x.p99, 0)} ms`;
	const lines = [
		`  bots ${s.started}/${s.bots} started${s.failed ? ` (${s.failed} failed: ${s.errors.join('; ')})` : ''}; join ${p(s.joinMs)}; connect ${p(s.connectMs)}${s.publishMs.count ? `; publish ${p(s.publishMs)}` : ''}`,
	];
	for (const k of ['video', 'audio'] as const) {
		const m = s.perKind[k];
		if (!m.tracks) continue;
		lines.push(
			`  ${k}: ${m.tracks} received tracks (${m.silent} silent); first key frame ${p(m.firstKeyFrameMs)}; first packet p50 ${fmt(m.firstPacketMs.p50, 0)} ms; ` +
				`loss ${fmt(m.lossPct, 2)} % (worst track ${fmt(m.worstLossPct, 1)} %); ${fmt(m.kbps, 0)} kbit/s per track`,
		);
	}
	if (s.errors.length && !s.failed) lines.push(`  bot errors: ${s.errors.join('; ')}`);
	return lines.join('\n') + '\n';
}
