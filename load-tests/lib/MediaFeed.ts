/**
 * One shared pre-encoded media source for every sending bot of a process:
 * a clip (H.264 Constrained Baseline + Opus) is encoded once per run, one
 * ffmpeg replays it (`-c copy`, real-time pace, looped) as RTP to two loopback
 * UDP sockets, and each packet is handed to every subscribed werift track.
 * werift rewrites SSRC, payload type, sequence number and timestamp per
 * sender, so hundreds of bots send real, decodable streams for the cost of
 * one encode.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import dgram from 'node:dgram';
import { existsSync } from 'node:fs';
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

export class MediaFeed {
	private readonly sockets: dgram.Socket[];
	private readonly sinks = { audio: new Set<Sink>(), video: new Set<Sink>() };
	private readonly ffmpeg: ChildProcess;
	private closed = false;
	/** Packets read from ffmpeg, per kind (the source rate, for loss accounting). */
	readonly received = { audio: 0, video: 0 };

	private constructor(sockets: dgram.Socket[], ffmpeg: ChildProcess) {
		this.sockets = sockets;
		this.ffmpeg = ffmpeg;
	}

	static async start(clip: string): Promise<MediaFeed> {
		const bind = async (): Promise<dgram.Socket> => {
			const socket = dgram.createSocket({ type: 'udp4', recvBufferSize: 4 * 2 ** 20 });
			await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
			return socket;
		};
		const [video, audio] = [await bind(), await bind()];
		const port = (s: dgram.Socket): number => s.address().port;
		const ffmpeg = spawn(
			'ffmpeg',
			[
				...['-v', 'error', '-re', '-stream_loop', '-1', '-i', clip, '-t', '3600'],
				...['-map', '0:v', '-c', 'copy', '-f', 'rtp', `rtp://127.0.0.1:${port(video)}?pkt_size=1200`],
				...['-map', '0:a', '-c', 'copy', '-f', 'rtp', `rtp://127.0.0.1:${port(audio)}`],
			],
			{ stdio: ['ignore', 'ignore', 'inherit'] },
		);
		const feed = new MediaFeed([video, audio], ffmpeg);
		const onMessage = (kind: 'audio' | 'video') => (packet: Buffer) => {
			// RTCP from ffmpeg (SR, PT 200) arrives on the next port, not here; skip anything not RTP v2.
			if (packet.length < 12 || packet[0]! >> 6 !== 2) return;
			feed.received[kind]++;
			for (const sink of feed.sinks[kind]) sink(packet);
		};
		video.on('message', onMessage('video'));
		audio.on('message', onMessage('audio'));
		ffmpeg.once('exit', (code, signal) => {
			if (!feed.closed) process.stderr.write(`media feed: ffmpeg exited (${code ?? signal})\n`);
		});
		return feed;
	}

	/** Every packet of that kind goes to `sink` until the returned function is called. */
	subscribe(kind: 'audio' | 'video', sink: Sink): () => void {
		this.sinks[kind].add(sink);
		return () => this.sinks[kind].delete(sink);
	}

	close(): void {
		if (this.closed) return;
		this.closed = true;
		this.ffmpeg.kill('SIGKILL');
		for (const socket of this.sockets) socket.close();
		this.sinks.audio.clear();
		this.sinks.video.clear();
	}
}
