import path from 'node:path';
import { SfuError } from '../protocol/index.js';

export interface ParsedSource {
	/** What ffmpeg opens. */
	input: string;
	kind: 'rtsp' | 'srt' | 'http' | 'file';
	/** ffmpeg protocols this source may use (nothing else: an HLS playlist cannot point at file://). */
	protocols: string;
	/** Files are played in real time, looping. */
	live: boolean;
}

/**
 * Validates a pull-ingest source. Network sources: rtsp(s)://, srt://,
 * http(s):// (incl. HLS). Local files only under `fileRoot` (when set), so a
 * host cannot stream the server's own files into a room.
 */
export function parseSource(url: string, fileRoot: string | undefined): ParsedSource {
	let parsed: URL | null;
	try {
		parsed = new URL(url);
	} catch {
		parsed = null;
	}
	if (parsed) {
		switch (parsed.protocol) {
			case 'rtsp:':
			case 'rtsps:':
				return { input: url, kind: 'rtsp', protocols: 'rtsp,rtsps,rtp,srtp,udp,tcp,tls,crypto', live: true };
			case 'srt:':
				return { input: url, kind: 'srt', protocols: 'srt,udp', live: true };
			case 'http:':
			case 'https:':
				return { input: url, kind: 'http', protocols: 'http,https,tcp,tls,crypto,hls', live: true };
			case 'file:':
				return fileSource(decodeURIComponent(parsed.pathname), fileRoot);
			default:
				throw new SfuError('invalid_payload', `unsupported source scheme ${parsed.protocol.replace(':', '')}: use rtsp, srt, http(s) or a file`);
		}
	}
	if (url.startsWith('/')) return fileSource(url, fileRoot);
	throw new SfuError('invalid_payload', 'the source must be a URL (rtsp://, srt://, http(s)://) or an absolute file path');
}

function fileSource(file: string, fileRoot: string | undefined): ParsedSource {
	if (!fileRoot) throw new SfuError('forbidden', 'file sources are disabled on this server (INGEST_FILE_ROOT is not set)');
	const root = path.resolve(fileRoot);
	const resolved = path.resolve(file);
	if (resolved !== root && !resolved.startsWith(root + path.sep)) throw new SfuError('forbidden', 'file sources must be under INGEST_FILE_ROOT');
	return { input: resolved, kind: 'file', protocols: 'file', live: false };
}
