/**
 * The benchmark's input: a pre-encoded H.264 clip packetized to RTP once and
 * stored as a dump (see sender.c) in the cache directory, keyed by the encode
 * settings. libx264 (Debian's ffmpeg 5.1) encodes testsrc2 with temporal noise
 * (so the bitrate is real, not a flat pattern's), Main profile, no B-frames,
 * a fixed GOP, and `repeat-headers=1`: SPS/PPS before every IDR, which mediasoup
 * needs to recognise a key frame. ffmpeg's RTP muxer (packetization mode 1,
 * 1200-byte packets) sends it as fast as it can to `sender capture`, which
 * checks the sequence numbers have no gap.
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync } from 'node:fs';
import path from 'node:path';
import { CACHE_ROOT } from './native.js';
import { firstLine, spawnTracked, stopChild, tempDir, removeTempDir, waitExit } from './processes.js';

export interface Resolution {
	width: number;
	height: number;
	fps: number;
	bitrate: string;
}

export const RESOLUTIONS = {
	'1080p': { width: 1920, height: 1080, fps: 30, bitrate: '5M' },
	'720p': { width: 1280, height: 720, fps: 30, bitrate: '2M' },
} as const satisfies Record<string, Resolution>;
export type ResolutionName = keyof typeof RESOLUTIONS;

/** Clip length (one loop of the replay) and key-frame interval. */
const CLIP_SECONDS = 20;
const GOP = 60;
const PACKET_SIZE = 1200;
/** Bump when the dump's content or format changes. */
const DUMP_VERSION = 1;

export interface RtpDump {
	file: string;
	packets: number;
	frames: number;
	loopSeconds: number;
	packetsPerSecond: number;
	mbps: number;
	keyFrames: number;
	/** Key frames whose first packets carry an SPS (must be all of them). */
	keyFramesWithSps: number;
	maxFramePackets: number;
}

/** Reads a dump back and describes it (H.264 NAL types of packetization mode 1). */
export function inspectDump(file: string): RtpDump {
	const data = readFileSync(file);
	const count = data.readUInt32LE(8);
	const clock = data.readUInt32LE(12);
	const loopTs = data.readUInt32LE(16);
	const frames = data.readUInt32LE(20);
	let offset = 24;
	let bytes = 0;
	let keyFrames = 0;
	let keyFramesWithSps = 0;
	let maxFramePackets = 0;
	let frameTs = -1;
	let framePackets = 0;
	let frameHasSps = false;
	let frameHasIdr = false;
	const closeFrame = (): void => {
		if (frameHasIdr) keyFrames += 1;
		if (frameHasIdr && frameHasSps) keyFramesWithSps += 1;
		maxFramePackets = Math.max(maxFramePackets, framePackets);
	};
	for (let i = 0; i < count; i++) {
		const ts = data.readUInt32LE(offset);
		const len = data.readUInt16LE(offset + 4);
		const packet = data.subarray(offset + 8, offset + 8 + len);
		offset += 8 + len;
		bytes += len;
		if (ts !== frameTs) {
			if (frameTs >= 0) closeFrame();
			frameTs = ts;
			framePackets = 0;
			frameHasSps = false;
			frameHasIdr = false;
		}
		framePackets += 1;
		const cc = packet[0]! & 0x0f;
		const ext = packet[0]! & 0x10 ? 4 + packet.readUInt16BE(12 + cc * 4 + 2) * 4 : 0;
		const nal = packet[12 + cc * 4 + ext]! & 0x1f;
		const types = nal === 24 ? stapTypes(packet.subarray(12 + cc * 4 + ext + 1)) : nal === 28 ? [packet[12 + cc * 4 + ext + 1]! & 0x1f] : [nal];
		if (types.includes(7)) frameHasSps = true;
		if (types.includes(5)) frameHasIdr = true;
	}
	closeFrame();
	const loopSeconds = loopTs / clock;
	return { file, packets: count, frames, loopSeconds, packetsPerSecond: count / loopSeconds, mbps: (bytes * 8) / loopSeconds / 1e6, keyFrames, keyFramesWithSps, maxFramePackets };
}

function stapTypes(payload: Buffer): number[] {
	const types: number[] = [];
	for (let at = 0; at + 2 < payload.length && types.length < 64; ) {
		const size = payload.readUInt16BE(at);
		types.push(payload[at + 2]! & 0x1f);
		at += 2 + size;
	}
	return types;
}

/** The cached dump for a resolution, encoding and packetizing it first when missing. */
export async function prepareDump(name: ResolutionName, sender: string, log: (line: string) => void): Promise<RtpDump> {
	const r = RESOLUTIONS[name];
	const encode = [
		'-f', 'lavfi', '-i', `testsrc2=size=${r.width}x${r.height}:rate=${r.fps}`,
		'-vf', 'noise=alls=12:allf=t', '-t', String(CLIP_SECONDS),
		'-c:v', 'libx264', '-profile:v', 'main', '-preset', 'veryfast', '-bf', '0', '-pix_fmt', 'yuv420p',
		'-g', String(GOP), '-keyint_min', String(GOP), '-sc_threshold', '0',
		'-b:v', r.bitrate, '-maxrate', r.bitrate, '-bufsize', r.bitrate, '-x264-params', 'repeat-headers=1',
	];
	const key = createHash('sha256').update(JSON.stringify({ DUMP_VERSION, encode, PACKET_SIZE })).digest('hex').slice(0, 16);
	const dir = path.join(CACHE_ROOT, 'dumps');
	const file = path.join(dir, `${name}-${key}.rtpdump`);
	if (existsSync(file)) return inspectDump(file);

	mkdirSync(dir, { recursive: true });
	const scratch = tempDir('fwd-bench-dump-');
	try {
		const clip = path.join(scratch, 'clip.mp4');
		log(`encoding the ${name} input once (${CLIP_SECONDS} s of testsrc2 + noise, libx264 Main, ${r.bitrate}bit/s, GOP ${GOP}, SPS/PPS before every IDR)…`);
		execFileSync('ffmpeg', ['-v', 'error', '-y', ...encode, clip], { stdio: ['ignore', 'ignore', 'inherit'], timeout: 600_000 });
		const partial = `${file}.${process.pid}.tmp`;
		const capture = spawnTracked(sender, ['capture', partial, String(r.fps), '1500', '120'], { stdio: ['ignore', 'pipe', 'inherit'] });
		const port = Number(await firstLine(capture, 5000, 'sender capture'));
		const ffmpeg = spawnTracked('ffmpeg', ['-v', 'error', '-i', clip, '-c:v', 'copy', '-bsf:v', 'h264_mp4toannexb', '-f', 'rtp', '-payload_type', '102', `rtp://127.0.0.1:${port}?pkt_size=${PACKET_SIZE}`], {
			stdio: ['ignore', 'ignore', 'inherit'],
		});
		if (!(await waitExit(ffmpeg, 120_000))) await stopChild(ffmpeg);
		if (!(await waitExit(capture, 10_000)) || capture.exitCode !== 0) {
			await stopChild(capture);
			throw new Error('capturing the RTP dump failed (see the lines above)');
		}
		const dump = inspectDump(partial);
		if (dump.keyFrames === 0 || dump.keyFramesWithSps !== dump.keyFrames) throw new Error(`the dump's key frames lack SPS (${dump.keyFramesWithSps}/${dump.keyFrames})`);
		renameSync(partial, file);
		return { ...dump, file };
	} finally {
		removeTempDir(scratch);
		rmSync(`${file}.${process.pid}.tmp`, { force: true });
	}
}
