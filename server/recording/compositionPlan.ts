import type { ManifestDocument, SegmentEntry } from './Manifest.js';

/** Output geometry and rate of the composed consult video. */
export const COMPOSITION_WIDTH = 1280;
export const COMPOSITION_HEIGHT = 720;
export const COMPOSITION_FPS = 25;
/** More tiles than this do not fit a readable grid: the rest are heard, not seen (and counted on screen). */
export const MAX_TILES = 9;

const VIDEO_CODECS = new Set(['vp8', 'vp9', 'h264', 'hevc', 'av1']);
/**
 * Holes between one participant's segments shorter than this are rounding
 * (segment start times are estimated from ffmpeg's clock): the tile holds its
 * last frame over them instead of flashing a card.
 */
const HOLE_MERGE_SEC = 0.5;
/** A gap entry this close to a hole explains it (its times are taken on another clock). */
const GAP_MATCH_SEC = 1.5;
/** Bounds on one ffmpeg run: its open inputs (decoders) and its length. */
const MAX_INPUTS_PER_CHUNK = 12;
const MAX_CHUNK_SEC = 300;

export interface Rect {
	x: number;
	y: number;
	w: number;
	h: number;
}

/** One slice of a segment file, read by one ffmpeg input of a chunk. */
export interface ChunkInput {
	/** Relative to the recording folder. */
	file: string;
	seq: number;
	/** Where in the file to start reading, seconds. */
	seek: number;
	/** Where in the chunk the slice starts, seconds. */
	offset: number;
	duration: number;
}

/**
 * A tile of the grid: one video stream of a participant (camera, screen,
 * device), a participant heard but not seen, or a participant whose recording
 * has a hole the manifest explains (shown as such).
 */
export interface Tile {
	/** Stable across the timeline: `<participantId>:v<n>` or `<participantId>:a`. */
	key: string;
	state: 'video' | 'audio_only' | 'gap';
	/** For `gap`: the manifest's reason (recorder_restarted, consent_withdrawn, …). */
	reason?: string;
	rect: Rect;
	/** Video streams to draw in this tile, later ones on top: `[input index, video stream index]`. */
	parts: [input: number, stream: number][];
}

/** A stretch of the timeline with one layout: one ffmpeg run. */
export interface Chunk {
	/** Seconds from the recording's start (on the frame grid). */
	start: number;
	duration: number;
	frames: number;
	inputs: ChunkInput[];
	tiles: Tile[];
	/** Participants present but not drawn (more than MAX_TILES). */
	hiddenTiles: number;
	/** Audio streams to mix: `[input index, audio stream index]`. */
	audio: [input: number, stream: number][];
}

export interface CompositionPlan {
	/** Wall clock of t = 0 (ms since the epoch): the recording's start. */
	startMs: number;
	durationSec: number;
	width: number;
	height: number;
	fps: number;
	chunks: Chunk[];
	/** The segment entries the composition reads. */
	madeFrom: { seq: number; sha256: string }[];
}

/** Tile rectangles for `n` tiles: 1 full frame, 2 side by side, 3–4 in 2x2, up to 9 in 3x3. */
export function gridLayout(n: number, width = COMPOSITION_WIDTH, height = COMPOSITION_HEIGHT): Rect[] {
	if (n <= 0) return [];
	if (n === 1) return [{ x: 0, y: 0, w: width, h: height }];
	const half = even(width / 2);
	if (n === 2) return [0, 1].map((i) => ({ x: i * half, y: 0, w: half, h: height }));
	const cols = n <= 4 ? 2 : 3;
	const w = even(width / cols);
	const h = even(height / cols);
	const rects: Rect[] = [];
	const rows = Math.ceil(Math.min(n, MAX_TILES) / cols);
	const top = even((height - rows * h) / 2);
	for (let i = 0; i < Math.min(n, MAX_TILES); i++) {
		const row = Math.floor(i / cols);
		const inRow = Math.min(cols, Math.min(n, MAX_TILES) - row * cols);
		// A short last row is centred, not left-aligned.
		const left = even((width - inRow * w) / 2);
		rects.push({ x: left + (i % cols) * w, y: top + row * h, w, h });
	}
	return rects;
}

function even(value: number): number {
	return Math.floor(value / 2) * 2;
}

interface Span {
	entry: SegmentEntry;
	/** Seconds from the recording start: where the file's time 0 is. */
	fileStart: number;
	/** The part of the timeline this segment covers (after overlaps and holes are resolved). */
	start: number;
	end: number;
	videoStreams: number;
	audioStreams: number;
}

interface Hole {
	participantId: string;
	start: number;
	end: number;
	reason: string;
	/** Tile keys of the segment before the hole: they stay on screen, as gap cards. */
	keys: string[];
}

function tileKeys(participantId: string, videoStreams: number): string[] {
	return videoStreams === 0 ? [`${participantId}:a`] : Array.from({ length: videoStreams }, (_, i) => `${participantId}:v${i}`);
}

/**
 * The composed consult's timeline, from the manifest alone (pure): who is
 * present when, which segment slice feeds each tile, and where the layout
 * changes. Boundaries sit on the frame grid so chunks join without drift.
 */
export function planComposition(doc: Pick<ManifestDocument, 'startedAt' | 'stoppedAt' | 'entries'>): CompositionPlan {
	const startMs = Date.parse(doc.startedAt);
	const grid = (seconds: number): number => Math.round(seconds * COMPOSITION_FPS) / COMPOSITION_FPS;
	const segments = doc.entries.filter((e): e is SegmentEntry => e.type === 'segment' && e.durationSec > 0);
	const lastEnd = Math.max(0, ...segments.map((s) => (Date.parse(s.startedAt) - startMs) / 1000 + s.durationSec));
	// From the press of record to the stop; never shorter than the media (segment ends are estimates).
	const total = grid(Math.max(lastEnd, doc.stoppedAt ? (Date.parse(doc.stoppedAt) - startMs) / 1000 : 0));

	// Each participant's segments, in time order, without overlaps; short holes closed.
	const byParticipant = new Map<string, Span[]>();
	for (const entry of segments) {
		const fileStart = (Date.parse(entry.startedAt) - startMs) / 1000;
		const codecs = entry.codecs;
		const videoStreams = codecs.filter((c) => VIDEO_CODECS.has(c)).length;
		const span: Span = { entry, fileStart, start: Math.max(0, fileStart), end: Math.min(total, fileStart + entry.durationSec), videoStreams, audioStreams: codecs.length - videoStreams };
		const list = byParticipant.get(entry.participantId) ?? [];
		list.push(span);
		byParticipant.set(entry.participantId, list);
	}
	const holes: Hole[] = [];
	const gaps = doc.entries.filter((e) => e.type === 'gap');
	for (const [participantId, spans] of byParticipant) {
		spans.sort((a, b) => a.start - b.start || a.entry.seq - b.entry.seq);
		for (let i = 1; i < spans.length; i++) {
			const previous = spans[i - 1]!;
			const span = spans[i]!;
			span.start = Math.max(span.start, previous.end);
			if (span.start - previous.end < HOLE_MERGE_SEC) {
				previous.end = span.start;
				continue;
			}
			const gap = gaps.find(
				(g) => g.participantId === participantId && (Date.parse(g.from) - startMs) / 1000 <= span.start + GAP_MATCH_SEC && (Date.parse(g.to) - startMs) / 1000 >= previous.end - GAP_MATCH_SEC,
			);
			if (gap) holes.push({ participantId, start: previous.end, end: span.start, reason: gap.reason, keys: tileKeys(participantId, previous.videoStreams) });
		}
		const last = spans.at(-1)!;
		if (total - last.end < HOLE_MERGE_SEC) last.end = total;
	}
	const spans = [...byParticipant.values()].flat().filter((s) => grid(s.end) > grid(s.start));

	// Tiles keep the order in which they first appeared.
	const order = new Map<string, number>();
	for (const span of [...spans].sort((a, b) => a.start - b.start || a.entry.seq - b.entry.seq)) {
		for (const key of tileKeys(span.entry.participantId, span.videoStreams)) if (!order.has(key)) order.set(key, order.size);
	}

	const cuts = [...new Set([0, total, ...spans.flatMap((s) => [grid(s.start), grid(s.end)]), ...holes.flatMap((h) => [grid(h.start), grid(h.end)])])]
		.filter((t) => t >= 0 && t <= total)
		.sort((a, b) => a - b);

	// Elementary intervals: between two cuts nothing changes.
	interface Piece {
		start: number;
		end: number;
		spans: Span[];
		tiles: { key: string; state: Tile['state']; reason?: string }[];
		signature: string;
	}
	const pieces: Piece[] = [];
	for (let i = 1; i < cuts.length; i++) {
		const start = cuts[i - 1]!;
		const end = cuts[i]!;
		if (end <= start) continue;
		const middle = (start + end) / 2;
		const present = spans.filter((s) => s.start <= middle && middle < s.end);
		const tiles: Piece['tiles'] = [];
		for (const span of present) {
			for (const key of tileKeys(span.entry.participantId, span.videoStreams)) tiles.push({ key, state: span.videoStreams > 0 ? 'video' : 'audio_only' });
		}
		for (const hole of holes) {
			if (hole.start <= middle && middle < hole.end && !present.some((s) => s.entry.participantId === hole.participantId)) {
				for (const key of hole.keys) tiles.push({ key, state: 'gap', reason: hole.reason });
			}
		}
		tiles.sort((a, b) => (order.get(a.key) ?? 0) - (order.get(b.key) ?? 0));
		pieces.push({ start, end, spans: present, tiles, signature: tiles.map((t) => `${t.key}/${t.state}/${t.reason ?? ''}`).join(',') });
	}

	// Chunks: runs of pieces with one layout, bounded in inputs and length.
	const chunks: Chunk[] = [];
	let group: Piece[] = [];
	const flush = (): void => {
		if (group.length > 0) chunks.push(buildChunk(group));
		group = [];
	};
	for (const piece of pieces) {
		const first = group[0];
		if (first) {
			const inputs = new Set([...group, piece].flatMap((p) => p.spans.map((s) => s.entry.seq)));
			if (first.signature !== piece.signature || inputs.size > MAX_INPUTS_PER_CHUNK || piece.end - first.start > MAX_CHUNK_SEC) flush();
		}
		group.push(piece);
	}
	flush();

	const used = new Set(chunks.flatMap((c) => c.inputs.map((i) => i.seq)));
	return {
		startMs,
		durationSec: total,
		width: COMPOSITION_WIDTH,
		height: COMPOSITION_HEIGHT,
		fps: COMPOSITION_FPS,
		chunks,
		madeFrom: segments.filter((s) => used.has(s.seq)).map((s) => ({ seq: s.seq, sha256: s.sha256 })),
	};

	function buildChunk(pieces: Piece[]): Chunk {
		const start = pieces[0]!.start;
		const end = pieces.at(-1)!.end;
		const duration = Math.round((end - start) * COMPOSITION_FPS) / COMPOSITION_FPS;
		// One input per segment slice; a segment spanning several pieces is one slice.
		const slices = new Map<number, { span: Span; from: number; to: number }>();
		for (const piece of pieces) {
			for (const span of piece.spans) {
				const slice = slices.get(span.entry.seq);
				if (slice) slice.to = piece.end;
				else slices.set(span.entry.seq, { span, from: piece.start, to: piece.end });
			}
		}
		const ordered = [...slices.values()].sort((a, b) => a.from - b.from || a.span.entry.seq - b.span.entry.seq);
		const inputs: ChunkInput[] = ordered.map(({ span, from, to }) => ({
			file: span.entry.file,
			seq: span.entry.seq,
			seek: round3(Math.max(0, from - span.fileStart)),
			offset: round3(from - start),
			duration: round3(to - from),
		}));
		const layout = pieces[0]!.tiles;
		const rects = gridLayout(layout.length);
		const tiles: Tile[] = layout.slice(0, MAX_TILES).map((tile, index) => {
			const parts: [number, number][] = [];
			if (tile.state === 'video') {
				const [participantId, stream] = tile.key.split(':v') as [string, string];
				ordered.forEach(({ span }, input) => {
					if (span.entry.participantId === participantId && Number(stream) < span.videoStreams) parts.push([input, Number(stream)]);
				});
			}
			return { key: tile.key, state: tile.state, ...(tile.reason ? { reason: tile.reason } : {}), rect: rects[index]!, parts };
		});
		const audio: [number, number][] = [];
		ordered.forEach(({ span }, input) => {
			for (let stream = 0; stream < span.audioStreams; stream++) audio.push([input, stream]);
		});
		return { start, duration, frames: Math.round(duration * COMPOSITION_FPS), inputs, tiles, hiddenTiles: Math.max(0, layout.length - MAX_TILES), audio };
	}
}

function round3(value: number): number {
	return Math.round(value * 1000) / 1000;
}
