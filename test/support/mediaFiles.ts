import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

const execFileAsync = promisify(execFile);

export interface Probe {
	format: { duration: string };
	streams: { codec_type: string; codec_name: string; start_time?: string; duration?: string }[];
}

/** ffprobe's view of a media file: its duration and streams. */
export async function ffprobe(file: string): Promise<Probe> {
	const { stdout } = await execFileAsync('ffprobe', ['-v', 'error', '-show_entries', 'format=duration:stream=codec_type,codec_name,start_time,duration', '-of', 'json', file]);
	return JSON.parse(stdout) as Probe;
}

/** Time at which a stream's last packet ends, seconds. */
export async function lastPacketEnd(file: string, stream: 'a' | 'v'): Promise<number> {
	const { stdout } = await execFileAsync('ffprobe', ['-v', 'error', '-select_streams', stream, '-show_entries', 'packet=pts_time,duration_time', '-of', 'csv=p=0', file], { maxBuffer: 64 * 1024 * 1024 });
	const last = stdout.trim().split('\n').at(-1)!.split(',');
	return Number(last[0]) + (Number(last[1]) || 0);
}

/**
 * Decodes a whole file; returns the demuxer's and decoders' errors (empty when
 * clean). Complaints of the null output muxer about RTP-derived timestamps are
 * not decoding errors and are left out.
 */
export async function decodeErrors(file: string): Promise<string> {
	const { stderr } = await execFileAsync('ffmpeg', ['-v', 'error', '-i', file, '-f', 'null', '-']);
	const errors: string[] = [];
	let skipped = false;
	for (const line of stderr.split('\n')) {
		if (!line.trim()) continue;
		// ffmpeg folds repeats of its previous line into "Last message repeated N times".
		if (/^\s*Last message repeated \d+ times$/.test(line)) {
			if (!skipped) errors.push(line);
			continue;
		}
		skipped = line.startsWith('[null @');
		if (!skipped) errors.push(line);
	}
	return errors.join('\n');
}
