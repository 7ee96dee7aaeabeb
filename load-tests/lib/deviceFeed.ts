/**
 * A device encoder for the load tests: a pre-encoded 720p30 H.264 Main clip
 * (what device ingests negotiate) replayed with `-c copy` at real-time pace,
 * looped, into a push-ingest endpoint (`createIngest`). One ffmpeg per
 * endpoint; it dies with this process (setpriv's parent-death signal) and
 * stops by itself after `maxSeconds`.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import type { IngestEndpointInfo } from '../../server/protocol/index.js';
import { withParentDeath } from './measure.js';

/** Encodes the device clip once into `dir` (10 s, 1 s GOP, SPS/PPS before every IDR). */
export function encodeDeviceClip(dir: string, bitrate: string): string {
	const file = path.join(dir, `device-720p30-${bitrate}.mp4`);
	if (existsSync(file)) return file;
	execFileSync('ffmpeg', [
		...['-v', 'error', '-y', '-f', 'lavfi', '-i', 'testsrc2=size=1280x720:rate=30', '-t', '10'],
		...['-c:v', 'libx264', '-profile:v', 'main', '-bf', '0', '-preset', 'ultrafast', '-pix_fmt', 'yuv420p'],
		...['-b:v', bitrate, '-maxrate', bitrate, '-bufsize', bitrate, '-g', '30', '-x264-params', 'repeat-headers=1', file],
	]);
	return file;
}

/** Starts sending `clip` to one video stream of an ingest endpoint. */
export function startDeviceFeed(clip: string, stream: IngestEndpointInfo['streams'][number], maxSeconds = 600): ChildProcess {
	const [command, ...args] = withParentDeath(
		'ffmpeg',
		[
			...['-v', 'error', '-re', '-stream_loop', '-1', '-i', clip, '-t', String(maxSeconds), '-c', 'copy', '-an'],
			...['-payload_type', String(stream.payloadType), '-ssrc', String(stream.ssrc), '-f', 'rtp', `rtp://127.0.0.1:${stream.port}?rtcpport=${stream.rtcpPort}&pkt_size=1200`],
		],
		'KILL',
	);
	return spawn(command!, args, { stdio: ['ignore', 'ignore', 'inherit'] });
}
