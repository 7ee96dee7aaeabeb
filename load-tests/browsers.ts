/**
 * Real-browser runner: N Chromium tabs across M rooms through the real SDK
 * (the demo page, fake camera and microphone), on loopback.
 *
 *   npm run bench:browsers [-- --tabs 6 --rooms 3 --hold 15]
 *
 * One spawned server (one mediasoup worker) and one headless Chromium. Tabs
 * join round-robin into the rooms (the first of each room as host, the others
 * clinicians), publish camera + microphone and subscribe to everyone. Per tab:
 * join time (page load → SDK `joined`), time to first frame from every other
 * participant (joined → first decoded frame). Then everyone holds for `hold`
 * seconds: inbound bitrate and packet loss (the SDK's getTrackStats), CPU of
 * the Chromium process tree, the server process and the worker. Bounded:
 * 20 s per join, 30 s per first frame. Writes load-tests/results/browsers.json.
 */
import { parseArgs } from 'node:util';
import { setTimeout as sleep } from 'node:timers/promises';
import { launchBrowser, type TestBrowser } from '../test/support/browser.js';
import { openDemo, type DemoParticipant } from '../test/support/demoPage.js';
import { startServer } from '../test/support/serverProcess.js';
import { cpuNs, descendants, fmt, summarize, writeResult } from './lib/measure.js';
import type { BrowsersResult } from './lib/results.js';

const { values } = parseArgs({
	options: {
		tabs: { type: 'string', default: '6' },
		rooms: { type: 'string', default: '3' },
		hold: { type: 'string', default: '15' },
	},
});
const tabs = Math.min(20, Math.max(2, Number(values.tabs)));
const roomCount = Math.min(tabs, Math.max(1, Number(values.rooms)));
const holdSeconds = Math.min(120, Math.max(3, Number(values.hold)));

interface InboundStats {
	direction: string;
	participantId: string;
	kind: 'audio' | 'video';
	framesDecoded?: number;
	bitrate: number;
	packetLossPercent: number;
	frameWidth: number;
}

const server = await startServer({ MEDIASOUP_NUM_WORKERS: '1', WEBRTC_LISTEN_IP: '127.0.0.1', ROOM_WAITING_ROOM: 'false', LOG_LEVEL: 'info' }, 30_000);
let browser: TestBrowser | null = null;
try {
	browser = await launchBrowser();
	const chromiumPid = browser.browser.process()!.pid!;
	const serverPid = server.proc.pid!;
	const workers = descendants(serverPid, 'mediasoup-worker');
	process.stdout.write(`browsers: ${tabs} Chromium tabs in ${roomCount} rooms (fake camera + microphone), hold ${holdSeconds} s\n`);
	const participants: { tab: number; room: string; joinMs: number; joinedAt: number; p: DemoParticipant }[] = [];
	for (let i = 0; i < tabs; i++) {
		const room = `browser-bench-${i % roomCount}`;
		const t0 = performance.now();
		const p = await openDemo(browser, server.baseUrl, room, i < roomCount ? 'host' : 'clinician', { sub: `tab-${i}` });
		participants.push({ tab: i, room, joinMs: performance.now() - t0, joinedAt: performance.now(), p });
	}
	// Time to first frame: from the later of the two joins, per (viewer, sender) pair in a room.
	const firstFrame: number[] = [];
	let missing = 0;
	const deadline = performance.now() + 30_000;
	const pending = participants.flatMap((v) => participants.filter((s) => s.room === v.room && s !== v).map((s) => ({ v, s, from: Math.max(v.joinedAt, s.joinedAt) })));
	while (pending.length > 0 && performance.now() < deadline) {
		for (let i = pending.length - 1; i >= 0; i--) {
			const { v, s, from } = pending[i]!;
			const video = await v.p.inbound(s.p.peerId, 'video');
			if ((video?.framesDecoded ?? 0) > 0) {
				firstFrame.push(performance.now() - from);
				pending.splice(i, 1);
			}
		}
		await sleep(50);
	}
	missing = pending.length;
	const pids = [chromiumPid, ...descendants(chromiumPid), serverPid, ...workers];
	const before = pids.map(cpuNs);
	const start = performance.now();
	await sleep(holdSeconds * 1000);
	const wallMs = performance.now() - start;
	const cpuMs = pids.map((pid, i) => (cpuNs(pid) - before[i]!) / 1e6);
	const chromiumCores = cpuMs.slice(0, pids.length - 1 - workers.length).reduce((a, b) => a + b, 0) / wallMs;
	const serverCores = cpuMs[pids.length - 1 - workers.length]! / wallMs;
	const workerCores = cpuMs.slice(pids.length - workers.length).reduce((a, b) => a + b, 0) / wallMs;
	const inbound: InboundStats[] = [];
	for (const { p } of participants) inbound.push(...((await p.stats()) as unknown as InboundStats[]).filter((t) => t.direction === 'inbound'));
	const video = inbound.filter((t) => t.kind === 'video');
	const audio = inbound.filter((t) => t.kind === 'audio');
	const result = {
		date: new Date().toISOString(),
		tabs,
		rooms: roomCount,
		joinMs: summarize(participants.map((p) => p.joinMs)),
		firstFrameMs: summarize(firstFrame),
		pairsWithoutVideo: missing,
		videoKbps: summarize(video.map((t) => t.bitrate / 1000)),
		videoLossPercent: summarize(video.map((t) => t.packetLossPercent)),
		audioLossPercent: summarize(audio.map((t) => t.packetLossPercent)),
		videoWidth: summarize(video.map((t) => t.frameWidth)),
		cpu: { chromiumCores, serverCores, workerCores, chromiumCoresPerTab: chromiumCores / tabs },
		browserErrors: browser.errors.slice(0, 20),
	} satisfies BrowsersResult;
	process.stdout.write(
		`  join (page load → joined) p50 ${fmt(result.joinMs.p50)} ms, p95 ${fmt(result.joinMs.p95)}, max ${fmt(result.joinMs.max)}\n` +
			`  first frame (${firstFrame.length} pairs, ${missing} without video) p50 ${fmt(result.firstFrameMs.p50)} ms, p95 ${fmt(result.firstFrameMs.p95)}, max ${fmt(result.firstFrameMs.max)}\n` +
			`  inbound video ${video.length} tracks: p50 ${fmt(result.videoKbps.p50, 0)} kbit/s, width p50 ${fmt(result.videoWidth.p50, 0)}, loss p50 ${fmt(result.videoLossPercent.p50, 2)} % max ${fmt(result.videoLossPercent.max, 2)} %; audio loss max ${fmt(result.audioLossPercent.max, 2)} %\n` +
			`  CPU: Chromium ${fmt(100 * chromiumCores, 0)} % of a core (${fmt(100 * result.cpu.chromiumCoresPerTab, 1)} % per tab), server ${fmt(100 * serverCores, 1)} %, worker ${fmt(100 * workerCores, 1)} %\n`,
	);
	process.stdout.write(`written ${writeResult('browsers.json', result)}\n`);
} finally {
	await browser?.close();
	await server.stop('SIGKILL');
}
process.exit(0);
