/**
 * One shared pre-encoded media source for every sending bot of a process:
 * a clip (H.264 Constrained Baseline + Opus) is encoded once per run, one
 * ffmpeg replays it (`-c copy`, real-time pace, looped) as RTP to two loopback
 * UDP sockets, and each packet is handed to every subscribed werift track.
 * werift rewrites SSRC, payload type, sequence number and timestamp per
 * sender, so hundreds of bots send real, decodable streams for the cost of
 * one encode. Each subscriber gets the feed delayed by its own offset (up to
 * one GOP): without it every bot would send its key frame at the same instant,
 * a burst no real set of cameras produces.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import dgram from 'node:dgram';
import { existsSync } from 'node:fs';
import { withParentDeath } from './measure.js';
import path from 'node:path';

export interface ClipOptions {
	width: number;
	height: number;
	fps: number;
	/** Video bitrate, ffmpeg syntax ("1M", "600k"). */
	bitrate: string;
}

/** Encodes the clip once (10 s, GOP 1 s, SPS/PPS before every IDR as mediasoup needs for key-frame detection). */
export function encodeClip(dir: string, options: ClipOptions): string {
	const file = path.join(dir, `clip-${options.width}x${options.height}-${options.fps}-${options.bitrate}.mkv`);
	if (existsSync(file)) return file;
	const { width, height, fps, bitrate } = options;
	execFileSync('ffmpeg', [
		...['-v', 'error', '-y', '-f', 'lavfi', '-i', `testsrc2=size=${width}x${height}:rate=${fps}`, '-f', 'lavfi', '-i', 'sine=frequency=440:sample_rate=48000', '-t', '10'],
		...['-c:v', 'libx264', '-profile:v', 'baseline', '-level', '3.1', '-preset', 'veryfast', '-pix_fmt', 'yuv420p', '-g', String(fps)],
		...['-b:v', bitrate, '-maxrate', bitrate, '-bufsize', bitrate, '-x264-params', 'repeat-headers=1'],
		...['-c:a', 'libopus', '-b:a', '32k', '-ac', '2', '-ar', '48000', file],
	]);
	return file;
}

type Sink = (packet: Buffer) => void;
type Kind = 'audio' | 'video';

interface Subscription {
	kind: Kind;
	sink: Sink;
	delayMs: number;
	/** Absolute index of the next packet of its kind to hand over. */
	cursor: number;
}

/** Packets of one kind with their arrival times; only the last few seconds are kept. */
class History {
	private packets: { at: number; packet: Buffer }[] = [];
	/** Absolute index of packets[0]. */
	private base = 0;

	get end(): number {
		return this.base + this.packets.length;
	}

	push(packet: Buffer, at: number): void {
		this.packets.push({ at, packet });
	}

	at(index: number): { at: number; packet: Buffer } | undefined {
		return this.packets[index - this.base];
	}

	/** Drops packets older than `keepMs`. */
	trim(now: number, keepMs: number): void {
		let drop = 0;
		while (drop < this.packets.length && this.packets[drop]!.at < now - keepMs) drop++;
		if (drop > 0) {
			this.packets = this.packets.slice(drop);
			this.base += drop;
		}
	}
}

/** Longest per-subscriber delay; the history keeps a little more. */
export const MAX_FEED_DELAY_MS = 1000;
const TICK_MS = 5;

export class MediaFeed {
	private readonly sockets: dgram.Socket[];
	private readonly history = { audio: new History(), video: new History() };
	private readonly subscriptions = new Set<Subscription>();
	private readonly ffmpeg: ChildProcess;
	private readonly timer: NodeJS.Timeout;
	private closed = false;
	/** Packets read from ffmpeg, per kind (the source rate, for loss accounting). */
	readonly received = { audio: 0, video: 0 };

	private constructor(sockets: dgram.Socket[], ffmpeg: ChildProcess) {
		this.sockets = sockets;
		this.ffmpeg = ffmpeg;
		this.timer = setInterval(() => this.deliver(), TICK_MS);
	}

	static async start(clip: string): Promise<MediaFeed> {
		const bind = async (): Promise<dgram.Socket> => {
			const socket = dgram.createSocket({ type: 'udp4', recvBufferSize: 4 * 2 ** 20 });
			await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
			return socket;
		};
		const [video, audio] = [await bind(), await bind()];
		const port = (s: dgram.Socket): number => s.address().port;
		// Through a parent-death signal the feed ends with its bot process, even a killed one.
		const [command, ...argv] = withParentDeath(
			'ffmpeg',
			[
				...['-v', 'error', '-re', '-stream_loop', '-1', '-i', clip, '-t', '3600'],
				...['-map', '0:v', '-c', 'copy', '-f', 'rtp', `rtp://127.0.0.1:${port(video)}?pkt_size=1200`],
				...['-map', '0:a', '-c', 'copy', '-f', 'rtp', `rtp://127.0.0.1:${port(audio)}`],
			],
			'KILL',
		);
		const ffmpeg = spawn(command!, argv, { stdio: ['ignore', 'ignore', 'inherit'] });
		const feed = new MediaFeed([video, audio], ffmpeg);
		const onMessage = (kind: Kind) => (packet: Buffer) => {
			// Anything but RTP version 2 (ffmpeg's RTCP goes to the next port, not here) is skipped.
			if (packet.length < 12 || packet[0]! >> 6 !== 2) return;
			feed.received[kind]++;
			feed.history[kind].push(packet, performance.now());
		};
		video.on('message', onMessage('video'));
		audio.on('message', onMessage('audio'));
		ffmpeg.once('exit', (code, signal) => {
			if (!feed.closed) process.stderr.write(`media feed: ffmpeg exited (${code ?? signal})\n`);
		});
		return feed;
	}

	/**
	 * Every packet of that kind goes to `sink`, `delayMs` (0 … MAX_FEED_DELAY_MS)
	 * after it left ffmpeg, until the returned function is called.
	 */
	subscribe(kind: Kind, sink: Sink, delayMs = 0): () => void {
		const subscription: Subscription = { kind, sink, delayMs: Math.min(MAX_FEED_DELAY_MS, Math.max(0, delayMs)), cursor: this.history[kind].end };
		this.subscriptions.add(subscription);
		return () => this.subscriptions.delete(subscription);
	}

	close(): void {
		if (this.closed) return;
		this.closed = true;
		clearInterval(this.timer);
		this.ffmpeg.kill('SIGKILL');
		for (const socket of this.sockets) socket.close();
		this.subscriptions.clear();
	}

	private deliver(): void {
		const now = performance.now();
		for (const subscription of this.subscriptions) {
			const history = this.history[subscription.kind];
			for (;;) {
				const next = history.at(subscription.cursor);
				if (!next || next.at + subscription.delayMs > now) break;
				subscription.cursor++;
				subscription.sink(next.packet);
			}
		}
		this.history.audio.trim(now, MAX_FEED_DELAY_MS + 500);
		this.history.video.trim(now, MAX_FEED_DELAY_MS + 500);
	}
}
