import { expect } from 'chai';
import { gridLayout, planComposition, type Chunk } from '../../server/recording/compositionPlan.js';
import type { ManifestDocument, ManifestEntry } from '../../server/recording/Manifest.js';

const T0 = Date.parse('2030-01-01T10:00:00.000Z');
const iso = (seconds: number): string => new Date(T0 + seconds * 1000).toISOString();

/** A manifest with only what the plan reads. */
function manifest(stopAt: number, entries: (Partial<ManifestEntry> & { type: ManifestEntry['type'] })[]): Pick<ManifestDocument, 'startedAt' | 'stoppedAt' | 'entries'> {
	return {
		startedAt: iso(0),
		stoppedAt: iso(stopAt),
		entries: entries.map((e, seq) => ({ seq, prev: '', hash: '', ...e }) as ManifestEntry),
	};
}

const segment = (participantId: string, from: number, to: number, codecs = ['opus', 'vp8']) =>
	({ type: 'segment', participantId, file: `p-${participantId}/r-${from}.mkv`, sha256: `${participantId}-${from}`, size: 1, durationSec: to - from, startedAt: iso(from), partial: false, codecs }) as const;

function chunkAt(chunks: Chunk[], t: number): Chunk {
	const chunk = chunks.find((c) => c.start <= t && t < c.start + c.duration);
	expect(chunk, `a chunk at ${t} s`).to.not.equal(undefined);
	return chunk!;
}

describe('composition plan (pure): the consult timeline from the manifest', () => {
	const doc = manifest(30, [
		segment('a', 0.5, 10.5),
		segment('b', 0.6, 15),
		segment('a', 10.5, 20.5),
		segment('c', 8, 12),
		{ type: 'gap', participantId: 'c', from: iso(12), to: iso(13), reason: 'recorder_restarted' },
		segment('c', 13, 29.9),
		segment('a', 20.6, 29.8),
		segment('d', 16, 22, ['opus']),
	]);
	const plan = planComposition(doc);

	it('covers the recording from start to stop on the frame grid, without drift', () => {
		expect(plan.durationSec).to.equal(30);
		expect(plan.chunks[0]!.start).to.equal(0);
		let end = 0;
		for (const chunk of plan.chunks) {
			expect(chunk.start).to.be.closeTo(end, 1e-9);
			expect(chunk.frames).to.equal(Math.round(chunk.duration * plan.fps));
			end = chunk.start + chunk.duration;
		}
		expect(end).to.be.closeTo(30, 1e-9);
		expect(plan.chunks.reduce((sum, c) => sum + c.frames, 0)).to.equal(750);
	});

	it('tiles follow who is present; gaps are shown, never closed up', () => {
		const tiles = (t: number) => chunkAt(plan.chunks, t).tiles.map((tile) => `${tile.key}/${tile.state}`);
		expect(tiles(0.2)).to.deep.equal([]);
		expect(tiles(5)).to.deep.equal(['a:v0/video', 'b:v0/video']);
		expect(tiles(10)).to.deep.equal(['a:v0/video', 'b:v0/video', 'c:v0/video']);
		expect(tiles(12.5)).to.deep.equal(['a:v0/video', 'b:v0/video', 'c:v0/gap']);
		expect(chunkAt(plan.chunks, 12.5).tiles[2]!.reason).to.equal('recorder_restarted');
		expect(tiles(18)).to.deep.equal(['a:v0/video', 'c:v0/video', 'd:a/audio_only']);
		// a's 0.1 s hole at 20.5 is rounding: its tile holds.
		expect(tiles(20.55)).to.deep.equal(['a:v0/video', 'c:v0/video', 'd:a/audio_only']);
		expect(tiles(25)).to.deep.equal(['a:v0/video', 'c:v0/video']);
	});

	it('feeds each tile from the right slice of the right segment, and mixes every voice present', () => {
		const chunk = chunkAt(plan.chunks, 5);
		const a = chunk.inputs.findIndex((i) => i.file === 'p-a/r-0.5.mkv');
		expect(chunk.tiles[0]!.parts).to.deep.equal([[a, 0]]);
		expect(chunk.inputs[a]!.seek).to.be.closeTo(chunk.start + chunk.inputs[a]!.offset - 0.5, 0.001);
		expect(chunk.audio).to.have.length(chunk.inputs.length);
		const late = chunkAt(plan.chunks, 18);
		// a's two segments both fall in this chunk (one layout): each is a slice, each slice's voice mixed.
		expect(late.audio.length).to.equal(late.inputs.length);
		expect([...new Set(late.inputs.map((i) => i.file.split('/')[0]))].sort()).to.deep.equal(['p-a', 'p-c', 'p-d']);
		expect(late.tiles[0]!.parts).to.have.length(2);
		expect(plan.madeFrom.map((m) => m.seq).sort((x, y) => x - y)).to.deep.equal([0, 1, 2, 3, 5, 6, 7]);
	});

	it('grids: 1 full, 2 side by side, 3-4 in 2x2 (a short row centred), up to 9 in 3x3', () => {
		expect(gridLayout(1)).to.deep.equal([{ x: 0, y: 0, w: 1280, h: 720 }]);
		expect(gridLayout(2).map((r) => [r.x, r.w, r.h])).to.deep.equal([
			[0, 640, 720],
			[640, 640, 720],
		]);
		expect(gridLayout(3).map((r) => [r.x, r.y])).to.deep.equal([
			[0, 0],
			[640, 0],
			[320, 360],
		]);
		expect(gridLayout(9)).to.have.length(9);
		expect(gridLayout(12)).to.have.length(9);
		for (const rect of gridLayout(9)) expect(rect.x + rect.w).to.be.at.most(1280);
	});
});
