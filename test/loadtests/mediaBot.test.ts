/**
 * The load tests' media bots must really carry media, or every number they
 * report is fiction: two bots in a consult exchange audio and H.264 video
 * through a real server and worker, over real ICE/DTLS/SRTP, and the server's
 * own counters agree that what it received it forwarded.
 */
import { expect } from 'chai';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { closeBotSockets, MediaBot } from '../../load-tests/lib/MediaBot.js';
import { encodeClip, MediaFeed } from '../../load-tests/lib/MediaFeed.js';
import { waitFor } from '../support/processes.js';
import { mintToken, startSfu, TestClient, type TestSfu } from '../support/sfu.js';

describe('load-test media bots', function () {
	this.timeout(60_000);
	let sfu: TestSfu;
	let feed: MediaFeed;
	let scratch: string;
	const bots: MediaBot[] = [];

	before(async () => {
		scratch = mkdtempSync(path.join(tmpdir(), 'sfu-bot-test-'));
		const clip = encodeClip(scratch, { width: 320, height: 180, fps: 30, bitrate: '200k' });
		sfu = await startSfu({ ROOM_WAITING_ROOM: 'false' });
		feed = await MediaFeed.start(clip);
	});

	after(async () => {
		await Promise.all(bots.map((bot) => bot.close()));
		feed?.close();
		closeBotSockets();
		await sfu?.close();
		rmSync(scratch, { recursive: true, force: true });
	});

	it('two bots in a consult receive each other’s audio and video key frames, without loss on loopback', async () => {
		for (const [role, sub] of [['host', 'site-a'], ['clinician', 'site-b']] as const) {
			bots.push(await MediaBot.start({ url: sfu.url, token: await mintToken({ room: 'bot-consult', role, sub }), publish: ['audio', 'video'], feed }));
		}
		const heard = (bot: MediaBot, kind: 'audio' | 'video'): boolean => bot.report().tracks.some((t) => t.kind === kind && t.firstKeyFrameMs !== null && t.packets > 20);
		await waitFor(() => bots.every((bot) => heard(bot, 'audio') && heard(bot, 'video')), 15_000, 'both bots receiving audio and video');
		for (const bot of bots) {
			const report = bot.report();
			expect(report.errors).to.deep.equal([]);
			expect(report.tracks.map((t) => t.kind).sort()).to.deep.equal(['audio', 'video']);
			for (const track of report.tracks) {
				expect(track.lost, `${track.kind} loss`).to.be.at.most(2);
				expect(track.bytes).to.be.greaterThan(0);
			}
		}
		// The server's side agrees: four producers and four consumers, one per site and kind.
		const counts = sfu.server.counts();
		expect({ peers: counts.peers, producers: counts.producers, consumers: counts.consumers }).to.deep.equal({ peers: 2, producers: 4, consumers: 4 });
	});

	it('a receiver whose WebRTC stack starts ICE before connectTransport (not mediasoup-client’s order) still gets media; a second connectTransport is refused', async () => {
		const late = await MediaBot.start({
			url: sfu.url,
			token: await mintToken({ room: 'bot-consult', role: 'clinician', sub: 'site-c' }),
			publish: [],
			feed: null,
			connectAfterAnswer: true,
		});
		bots.push(late);
		await waitFor(() => late.report().tracks.filter((t) => t.firstKeyFrameMs !== null && t.packets > 20).length === 4, 15_000, 'the late-connecting bot receiving both sites');
		expect(late.report().errors).to.deep.equal([]);
		const client = await TestClient.connect(sfu.url, { token: await mintToken({ room: 'bot-consult', role: 'clinician', sub: 'site-d' }) });
		try {
			await client.ok('join', { protocolVersion: 1 });
			const transport = await client.ok('createTransport', { direction: 'recv' });
			const dtlsParameters = { role: 'client' as const, fingerprints: [{ algorithm: 'sha-256' as const, value: Array.from({ length: 32 }, () => 'AB').join(':') }] };
			await client.ok('connectTransport', { transportId: transport.id, dtlsParameters });
			const again = await client.request('connectTransport', { transportId: transport.id, dtlsParameters });
			expect(again.ok ? null : again.error.code).to.equal('invalid_state');
		} finally {
			await client.request('leave', {}).catch(() => undefined);
			client.close();
		}
		await late.close();
		bots.pop();
	});

	it('a bot that leaves is gone from the room and its peer stops receiving it', async () => {
		const leaving = bots.pop()!;
		await leaving.close();
		const staying = bots[0]!;
		await waitFor(() => sfu.server.counts().peers === 1 && sfu.server.counts().consumers === 0, 10_000, 'the room down to one peer and no consumers');
		const before = staying.report().tracks.reduce((sum, t) => sum + t.packets, 0);
		await new Promise((resolve) => setTimeout(resolve, 500));
		const after = staying.report().tracks.reduce((sum, t) => sum + t.packets, 0);
		expect(after - before, 'packets after the other bot left').to.be.at.most(5);
	});
});
