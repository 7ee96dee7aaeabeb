/**
 * A child process hosting many MediaBots (forked by BotFleet): one MediaFeed
 * per process, bots started a few at a time, reports sent back over IPC.
 * Exits when the parent says so, when the parent goes away, or after its
 * deadline — it never outlives a run.
 */
import { closeBotSockets, MediaBot, type BotReport } from './MediaBot.js';
import { MediaFeed } from './MediaFeed.js';
import { pool } from './measure.js';
import type { BotSpec, FleetMessage, ProcessMessage } from './BotFleet.js';

const bots: (MediaBot | null)[] = [];
let feed: MediaFeed | null = null;
let deadline: NodeJS.Timeout | null = null;

const send = (message: ProcessMessage): void => {
	process.send?.(message);
};

async function shutdown(code: number): Promise<never> {
	if (deadline) clearTimeout(deadline);
	await Promise.all(bots.filter((bot) => bot !== null).map((bot) => bot.close().catch(() => undefined)));
	feed?.close();
	closeBotSockets();
	process.exit(code);
}

async function start(specs: BotSpec[], clip: string | null, inFlight: number): Promise<void> {
	if (clip && specs.some((s) => s.publish.length > 0)) feed = await MediaFeed.start(clip);
	await pool(specs, inFlight, async (spec, index) => {
		try {
			const bot = await MediaBot.start({
				url: spec.url,
				token: spec.token,
				publish: spec.publish,
				feed,
				...(spec.consumeKinds ? { consume: (p) => spec.consumeKinds!.includes(p.kind) } : {}),
			});
			bots[index] = bot;
			send({ type: 'started', index, ok: true });
		} catch (error) {
			bots[index] = null;
			send({ type: 'started', index, ok: false, error: (error as Error).message });
		}
	});
	send({ type: 'ready' });
}

process.on('message', (message: FleetMessage) => {
	switch (message.type) {
		case 'start':
			deadline = setTimeout(() => void shutdown(3), message.maxLifetimeMs);
			void start(message.bots, message.clip, message.inFlight);
			break;
		case 'report': {
			const reports: (BotReport | null)[] = bots.map((bot) => bot?.report() ?? null);
			send({ type: 'report', reports, feedPackets: feed ? { ...feed.received } : null });
			break;
		}
		case 'close':
			void shutdown(0);
			break;
	}
});
process.on('disconnect', () => void shutdown(0));
send({ type: 'hello' });
