import path from 'node:path';
import { SfuError } from '../protocol/index.js';
import type { EgressPolicy } from './EgressPolicy.js';

export interface ParsedSource {
	/** What ffmpeg opens (for rtsp/srt, see resolveInput: the host is replaced by its checked address). */
	input: string;
	kind: 'rtsp' | 'srt' | 'http' | 'file';
	/** ffmpeg protocols this source may use (nothing else: an HLS playlist cannot point at file://). */
	protocols: string;
	/** Files are played in real time, looping. */
	live: boolean;
	/** The host to check against the egress policy (network sources). */
	host?: string;
	/**
	 * Whether ffmpeg reaches the source through the checking egress proxy
	 * (HTTP(S), HLS and RTSP over TLS: redirects, playlist entries and TLS
	 * tunnels are each checked, and the name stays in Host/SNI) rather than at
	 * a checked address written into the URL (rtsp, srt).
	 */
	viaProxy: boolean;
	/** Credentials and keys in the URL, to cut out of anything logged or shown. */
	secrets: string[];
}

/**
 * Validates a pull-ingest source. Network sources: rtsp(s)://, srt://,
 * http(s):// (incl. HLS). Local files only under `fileRoot` (when set), so a
 * host cannot stream the server's own files into a room. Where a network
 * source may connect is the EgressPolicy's call (see resolveInput).
 */
export function parseSource(url: string, fileRoot: string | undefined): ParsedSource {
	let parsed: URL | null;
	try {
		parsed = new URL(url);
	} catch {
		parsed = null;
	}
	if (parsed) {
		const network = (kind: ParsedSource['kind'], protocols: string, viaProxy: boolean): ParsedSource => {
			if (!parsed.hostname) throw new SfuError('invalid_payload', 'the source URL has no host');
			return { input: url, kind, protocols, live: true, host: parsed.hostname, viaProxy, secrets: secretsOf(parsed) };
		};
		switch (parsed.protocol) {
			case 'rtsp:':
				return network('rtsp', 'rtsp,rtp,srtp,udp,tcp', false);
			case 'rtsps:':
				return network('rtsp', 'rtsps,rtsp,rtp,srtp,udp,tcp,tls,crypto,httpproxy', true);
			case 'srt:': {
				// ffmpeg's srt:// can also listen or rendezvous: a host must not open ports on the server.
				const mode = parsed.searchParams.get('mode');
				if (mode !== null && mode !== 'caller') throw new SfuError('invalid_payload', 'srt sources must be callers (mode=caller)');
				return network('srt', 'srt,udp', false);
			}
			case 'http:':
			case 'https:':
				return network('http', 'http,https,tcp,tls,crypto,hls,httpproxy', true);
			case 'file:':
				return fileSource(decodeURIComponent(parsed.pathname), fileRoot);
			default:
				throw new SfuError('invalid_payload', `unsupported source scheme ${parsed.protocol.replace(':', '')}: use rtsp, srt, http(s) or a file`);
		}
	}
	if (url.startsWith('/')) return fileSource(url, fileRoot);
	throw new SfuError('invalid_payload', 'the source must be a URL (rtsp://, srt://, http(s)://) or an absolute file path');
}

/**
 * What ffmpeg should open now: the host checked against `policy` (resolved
 * again on every attempt: a camera may change address, and a name that now
 * points inside is refused). rtsp/srt get the checked address in place of the
 * name, so ffmpeg's own lookup cannot be answered differently (DNS rebinding);
 * proxied sources keep their URL (the proxy checks and pins each connection).
 * Throws `source_forbidden` or `source_unreachable`.
 */
export async function resolveInput(source: ParsedSource, policy: EgressPolicy): Promise<string> {
	if (source.kind === 'file' || !source.host) return source.input;
	const address = await policy.check(source.host);
	if (source.viaProxy) return source.input;
	const url = new URL(source.input);
	const userinfo = url.username || url.password ? `${url.username}${url.password ? `:${url.password}` : ''}@` : '';
	const host = address.includes(':') ? `[${address}]` : address;
	return `${url.protocol}//${userinfo}${host}${url.port ? `:${url.port}` : ''}${url.pathname}${url.search}`;
}

/** `text` with the source's credentials, keys and any URL userinfo cut out. */
export function redactSource(text: string, source: ParsedSource): string {
	let out = text.replace(/([a-z][a-z0-9+.-]*:\/\/)[^\s/@]*@/gi, '$1[redacted]@');
	// Short values would blank out ordinary words; the userinfo rule above covers them in URLs.
	for (const secret of source.secrets) if (secret.length >= 4) out = out.split(secret).join('[redacted]');
	return out;
}

function secretsOf(url: URL): string[] {
	const values = [url.username, url.password];
	// SRT's encryption passphrase (and stream id, which may carry a token) travel in the query.
	for (const key of ['passphrase', 'streamid', 'token', 'key', 'password', 'pass', 'pwd', 'user']) {
		const value = url.searchParams.get(key);
		if (value) values.push(value, encodeURIComponent(value));
	}
	const decoded = values.map((value) => {
		try {
			return decodeURIComponent(value);
		} catch {
			return value;
		}
	});
	return [...new Set([...values, ...decoded].filter((value) => value.length > 0))].sort((a, b) => b.length - a.length);
}

function fileSource(file: string, fileRoot: string | undefined): ParsedSource {
	if (!fileRoot) throw new SfuError('forbidden', 'file sources are disabled on this server (INGEST_FILE_ROOT is not set)');
	const root = path.resolve(fileRoot);
	const resolved = path.resolve(file);
	if (resolved !== root && !resolved.startsWith(root + path.sep)) throw new SfuError('forbidden', 'file sources must be under INGEST_FILE_ROOT');
	return { input: resolved, kind: 'file', protocols: 'file', live: false, viaProxy: false, secrets: [] };
}
