/**
 * System (b): Janus 1.1.2 (Debian's `janus` package, installed here with
 * apt-get when /usr/bin/janus is missing). Each trial starts a fresh Janus
 * pinned to core 1 with a generated configuration in a temp dir: only the
 * VideoRoom plugin and the HTTP transport (127.0.0.1, a free port), no other
 * plugins, transports, event handlers or loggers, session_timeout = 0, media
 * bound to loopback. Over the HTTP API: create a session, attach the VideoRoom,
 * create a room, `add_remote_publisher` (plain RTP in, bound to 127.0.0.1; the
 * remote publisher's stream is matched by SSRC, 1000 for its first stream),
 * then one `rtp_forward` (plain RTP out) per receiver. The measured process is
 * janus (every thread).
 */
import { spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { freeTcpPort, onCleanup, removeTempDir, spawnTracked, stopChild, tempDir } from './processes.js';
import { SYSTEM_CORE, type RunningSystem, type SystemStarter } from './trial.js';

export const JANUS_BIN = '/usr/bin/janus';
/** The SSRC Janus expects on a remote publisher's first stream. */
const REMOTE_PUBLISHER_SSRC = 1000;
const PAYLOAD_TYPE = 102;

function run(command: string, args: string[], timeoutMs: number): Promise<void> {
	return new Promise((resolve, reject) => {
		const child = spawn(command, args, { stdio: ['ignore', 'ignore', 'inherit'], env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } });
		const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
		child.once('error', (error) => {
			clearTimeout(timer);
			reject(error);
		});
		child.once('exit', (code, signal) => {
			clearTimeout(timer);
			if (code === 0) resolve();
			else reject(new Error(`${command} ${args.join(' ')}: exit ${code ?? signal}`));
		});
	});
}

/** Installs Debian's janus package if needed (root, apt); resolves to the binary. */
export async function ensureJanus(log: (line: string) => void): Promise<string> {
	if (existsSync(JANUS_BIN)) return JANUS_BIN;
	if (process.getuid?.() !== 0) throw new Error(`${JANUS_BIN} is missing: install Debian's janus package (apt-get install janus) or run the benchmark as root`);
	log('Janus is not installed: running apt-get install -y janus (Debian package, once)…');
	try {
		await run('apt-get', ['install', '-y', '--no-install-recommends', 'janus'], 300_000);
	} catch {
		log('apt-get install failed; refreshing the package lists (apt-get update) and retrying…');
		await run('apt-get', ['update'], 300_000);
		await run('apt-get', ['install', '-y', '--no-install-recommends', 'janus'], 300_000);
	}
	if (!existsSync(JANUS_BIN)) throw new Error(`apt-get install janus finished but ${JANUS_BIN} is still missing`);
	return JANUS_BIN;
}

/** Where Debian puts Janus's modules (/usr/lib/<multiarch>/janus). */
function modulesDir(): string {
	for (const lib of ['/usr/lib', '/usr/lib64']) {
		if (!existsSync(lib)) continue;
		for (const entry of [...readdirSync(lib), '.']) {
			const dir = path.join(lib, entry, 'janus');
			if (existsSync(path.join(dir, 'plugins', 'libjanus_videoroom.so'))) return dir;
		}
	}
	throw new Error('Janus modules not found (expected /usr/lib/<arch>/janus/plugins/libjanus_videoroom.so)');
}

/** The .so files of a module folder except `keep`, for a `disable = "…"` list. */
function allBut(dir: string, keep: string[]): string {
	if (!existsSync(dir)) return '';
	return readdirSync(dir)
		.filter((f) => f.endsWith('.so') && !keep.includes(f))
		.join(',');
}

function writeConfig(dir: string, httpPort: number): void {
	const modules = modulesDir();
	writeFileSync(
		path.join(dir, 'janus.jcfg'),
		`general: {
	configs_folder = "${dir}"
	plugins_folder = "${modules}/plugins"
	transports_folder = "${modules}/transports"
	events_folder = "${modules}/events"
	loggers_folder = "${modules}/loggers"
	debug_level = 3
	server_name = "fwd-bench"
	session_timeout = 0
	hide_dependencies = true
}
media: {
	rtp_port_range = "20000-39999"
}
nat: {
	ice_enforce_list = "127.0.0.1"
	ignore_mdns = true
}
plugins: {
	disable = "${allBut(`${modules}/plugins`, ['libjanus_videoroom.so'])}"
}
transports: {
	disable = "${allBut(`${modules}/transports`, ['libjanus_http.so'])}"
}
loggers: {
	disable = "${allBut(`${modules}/loggers`, [])}"
}
events: {
	broadcast = false
	disable = "${allBut(`${modules}/events`, [])}"
}
`,
	);
	writeFileSync(
		path.join(dir, 'janus.transport.http.jcfg'),
		`general: {
	json = "compact"
	base_path = "/janus"
	http = true
	ip = "127.0.0.1"
	port = ${httpPort}
	https = false
}
admin: {
	admin_http = false
	admin_https = false
}
`,
	);
	writeFileSync(path.join(dir, 'janus.plugin.videoroom.jcfg'), 'general: {\n}\n');
}

type Json = Record<string, unknown>;

/** A minimal Janus HTTP API client: one session, one VideoRoom handle. */
class JanusApi {
	#base: string;
	#session = 0;
	#handle = 0;
	#transaction = 0;

	constructor(port: number) {
		this.#base = `http://127.0.0.1:${port}/janus`;
	}

	async #post(url: string, body: Json): Promise<Json> {
		const response = await fetch(url, {
			method: 'POST',
			headers: { 'content-type': 'application/json' },
			body: JSON.stringify({ ...body, transaction: `t${++this.#transaction}` }),
			signal: AbortSignal.timeout(10_000),
		});
		const answer = (await response.json()) as Json;
		if (answer['janus'] === 'error') throw new Error(`Janus ${String(body['janus'])}: ${JSON.stringify(answer['error'])}`);
		return answer;
	}

	async connect(): Promise<void> {
		this.#session = Number(((await this.#post(this.#base, { janus: 'create' }))['data'] as Json)['id']);
		this.#handle = Number(((await this.#post(`${this.#base}/${this.#session}`, { janus: 'attach', plugin: 'janus.plugin.videoroom' }))['data'] as Json)['id']);
	}

	/** A synchronous VideoRoom request; returns the plugin's data or throws its error. */
	async videoroom(body: Json): Promise<Json> {
		const answer = await this.#post(`${this.#base}/${this.#session}/${this.#handle}`, { janus: 'message', body });
		const data = ((answer['plugindata'] as Json | undefined)?.['data'] ?? {}) as Json;
		if (data['error_code'] !== undefined || data['error'] !== undefined) throw new Error(`Janus VideoRoom ${String(body['request'])}: ${String(data['error'])} (${String(data['error_code'])})`);
		return data;
	}

	async destroy(): Promise<void> {
		if (this.#session) await this.#post(`${this.#base}/${this.#session}`, { janus: 'destroy' }).catch(() => undefined);
	}
}

/** Waits until Janus's HTTP transport answers `info`. */
async function waitReady(port: number, alive: () => boolean, ms: number): Promise<void> {
	const deadline = Date.now() + ms;
	while (Date.now() < deadline) {
		if (!alive()) throw new Error('Janus exited during startup');
		try {
			const response = await fetch(`http://127.0.0.1:${port}/janus/info`, { signal: AbortSignal.timeout(1000) });
			if (response.ok) return;
		} catch {
			// Not listening yet.
		}
		await sleep(100);
	}
	throw new Error(`Janus did not answer on port ${port} within ${ms} ms`);
}

export function janusSystem(bin: string): SystemStarter {
	return async (sinkPorts): Promise<RunningSystem> => {
		const dir = tempDir('fwd-bench-janus-');
		const httpPort = await freeTcpPort();
		writeConfig(dir, httpPort);
		const log = path.join(dir, 'janus.log');
		const janus = spawnTracked(bin, ['-F', dir, '-C', path.join(dir, 'janus.jcfg'), '-N', '-L', log, '-o'], { cpus: SYSTEM_CORE, stdio: ['ignore', 'ignore', 'ignore'] });
		const api = new JanusApi(httpPort);
		const close = async (): Promise<void> => {
			unregister();
			await api.destroy();
			await stopChild(janus, 5000);
			removeTempDir(dir);
		};
		const unregister = onCleanup(close);
		try {
			await waitReady(httpPort, () => janus.exitCode === null && janus.signalCode === null, 15_000);
			await api.connect();
			const room = 1234;
			await api.videoroom({ request: 'create', room, publishers: 1, bitrate: 0, fir_freq: 0, videocodec: 'h264', h264_profile: '4d0032', audiocodec: 'opus', notify_joining: false });
			const published = await api.videoroom({
				request: 'add_remote_publisher',
				room,
				id: 1001,
				display: 'device',
				iface: '127.0.0.1',
				streams: [{ type: 'video', mindex: 0, mid: '0', codec: 'h264' }],
			});
			const inputPort = Number(published['port']);
			if (!inputPort) throw new Error(`add_remote_publisher gave no port: ${JSON.stringify(published)}`);
			for (const port of sinkPorts) {
				await api.videoroom({ request: 'rtp_forward', room, publisher_id: 1001, host: '127.0.0.1', host_family: 'ipv4', streams: [{ mid: '0', port }] });
			}
			return { pid: janus.pid!, inputPort, ssrc: REMOTE_PUBLISHER_SSRC, payloadType: PAYLOAD_TYPE, close };
		} catch (error) {
			const tail = existsSync(log) ? readFileSync(log, 'utf8').split('\n').slice(-15).join('\n') : '(no log)';
			await close();
			throw new Error(`${(error as Error).message}\nlast lines of janus.log:\n${tail}`, { cause: error });
		}
	};
}
