import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { chmodSync, existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import { CHROMIUM, launchBrowser, type TestBrowser } from './browser.js';
import { isAlive } from './processes.js';

const run = promisify(execFile);

export const IP = existsSync('/usr/sbin/ip') ? '/usr/sbin/ip' : '/sbin/ip';
export const NFT = existsSync('/usr/sbin/nft') ? '/usr/sbin/nft' : '/sbin/nft';
export const TC = existsSync('/usr/sbin/tc') ? '/usr/sbin/tc' : '/sbin/tc';
export const TURNSERVER = '/usr/bin/turnserver';

/**
 * A small routed network made of Linux network namespaces, private to one
 * test: a server namespace, a router namespace that forwards (and filters,
 * and NATs) between the others, and client namespaces. Every link is a veth
 * pair created directly inside the namespaces (nothing appears in the host's
 * namespace), addresses are 10.200.x.y/24, and `close()` ends every process
 * inside and deletes the namespaces, which takes their links and firewall
 * rules with them.
 *
 * ```
 *  server 10.200.1.2 ── 10.200.1.1 [router, nftables] 10.200.N.1 ── client 10.200.N.2
 * ```
 */
export class TestNetwork {
	/** Address of the server namespace. */
	readonly serverIp = '10.200.1.2';
	readonly server: string;
	readonly router: string;
	readonly #prefix: string;
	readonly #namespaces: string[] = [];
	readonly #clients = new Map<string, { ns: string; ip: string; iface: string; net: number }>();
	readonly #relays = new Map<string, LinkRelay>();
	readonly #impaired = new Map<string, LinkImpairment>();
	readonly #nat: boolean;
	#closed = false;

	private constructor(prefix: string, nat: boolean) {
		this.#prefix = prefix;
		this.#nat = nat;
		this.server = `${prefix}-srv`;
		this.router = `${prefix}-rtr`;
	}

	/**
	 * Why namespaces cannot be made here (not root, `ip`/`nft` missing, no
	 * CAP_SYS_ADMIN in a container), or null when they can: tries once.
	 */
	static async unavailableReason(): Promise<string | null> {
		if (process.getuid?.() !== 0) return 'network namespaces need root';
		for (const [tool, pkg] of [
			[IP, 'iproute2'],
			[NFT, 'nftables'],
		] as const) {
			if (!existsSync(tool)) return `${tool} is missing (Debian package ${pkg}; scripts/setup.sh --test installs it)`;
		}
		const probe = `thprobe-${process.pid}`;
		try {
			await run(IP, ['netns', 'add', probe]);
			await run(IP, ['-n', probe, 'link', 'add', 'name', 'probe0', 'type', 'veth', 'peer', 'name', 'probe1']);
			await run(IP, ['netns', 'exec', probe, NFT, 'add', 'table', 'inet', 'probe']);
			return null;
		} catch (error) {
			return `cannot create a network namespace with a veth pair and nftables rules: ${(error as Error).message.split('\n')[0]}`;
		} finally {
			await run(IP, ['netns', 'del', probe]).catch(() => undefined);
		}
	}

	/**
	 * Builds the server and router namespaces and one namespace per client
	 * name. With `nat`, the router masquerades client traffic (clients reach
	 * the server from the router's address, as from behind a hospital or
	 * carrier NAT).
	 */
	static async create(clients: string[], options: { nat?: boolean } = {}): Promise<TestNetwork> {
		const network = new TestNetwork(`th${process.pid.toString(36)}${Math.random().toString(36).slice(2, 5)}`, options.nat ?? true);
		try {
			await network.#build(clients);
		} catch (error) {
			await network.close();
			throw error;
		}
		return network;
	}

	async #build(clients: string[]): Promise<void> {
		await this.#addNamespace(this.server);
		await this.#addNamespace(this.router);
		await this.#link(this.server, 'up0', '10.200.1.2/24', 'srv', '10.200.1.1/24');
		await this.#ip(this.server, 'route', 'add', 'default', 'via', '10.200.1.1');
		await run(IP, ['netns', 'exec', this.router, 'sysctl', '-qw', 'net.ipv4.ip_forward=1']);
		for (const [index, name] of clients.entries()) {
			const ns = `${this.#prefix}-${name}`;
			const net = 2 + index;
			const iface = `cli${index}`;
			await this.#addNamespace(ns);
			await this.#link(ns, 'up0', `10.200.${net}.2/24`, iface, `10.200.${net}.1/24`);
			await this.#ip(ns, 'route', 'add', 'default', 'via', `10.200.${net}.1`);
			this.#clients.set(name, { ns, ip: `10.200.${net}.2`, iface, net });
		}
		await this.setFirewall({});
	}

	/** The namespace of client `name`. */
	namespace(client: string): string {
		const found = this.#clients.get(client);
		if (!found) throw new Error(`no client namespace ${client}`);
		return found.ns;
	}

	/** The address of client `name` inside its namespace. */
	clientIp(client: string): string {
		return this.#clients.get(client)!.ip;
	}

	/**
	 * Replaces the router's rules. `rules[client]` are nftables statements
	 * applied (in order) to what that client sends towards the server, e.g.
	 * `['meta l4proto udp drop']`. Nothing else is filtered (answers come back
	 * on the router's server side).
	 */
	async setFirewall(rules: Record<string, string[]>): Promise<void> {
		// Replaces its own tables only: the link impairment (table thimpair) stays.
		const lines = ['table inet thfw {}', 'delete table inet thfw', 'table inet thfw {', '  chain forward {', '    type filter hook forward priority 0; policy accept;'];
		for (const [client, statements] of Object.entries(rules)) {
			const iface = this.#clients.get(client)?.iface;
			if (!iface) throw new Error(`no client namespace ${client}`);
			for (const statement of statements) lines.push(`    iifname "${iface}" ${statement}`);
		}
		lines.push('  }', '}');
		if (this.#nat) lines.push('table ip thnat {}', 'delete table ip thnat', 'table ip thnat {', '  chain postrouting {', '    type nat hook postrouting priority 100;', '    oifname "srv" masquerade', '  }', '}');
		await this.#nft(this.router, lines.join('\n'));
	}

	/** Counters of the router's rules (to show which ones matched). */
	async firewallRules(): Promise<string> {
		return (await run(IP, ['netns', 'exec', this.router, NFT, 'list', 'table', 'inet', 'thfw'])).stdout;
	}

	/**
	 * Sends `client`'s UDP towards the server's media port `port` through a
	 * relay process in the router (nftables `dnat`; the client still sees
	 * the server's address), so that {@link impair} can add delay and jitter.
	 * Call once, before the client's media starts.
	 */
	async relayMedia(client: string, port: number): Promise<void> {
		const found = this.#client(client);
		if (this.#relays.has(client)) return;
		const relay = await LinkRelay.start(this, 45_000 + found.net, this.serverIp, port);
		this.#relays.set(client, relay);
		await this.#applyImpairments();
	}

	/**
	 * Impairs `client`'s link to the router, in both directions, or clears it
	 * (`null`/`{}`): rates by tbf (a queue on each side of the veth), random
	 * loss of every packet (TCP signaling included) by nftables `numgen`,
	 * delay and jitter of its media by the relay of {@link relayMedia}.
	 */
	async impair(client: string, impairment: LinkImpairment | null): Promise<void> {
		const found = this.#client(client);
		const next = impairment ?? {};
		if ((next.rttMs || next.jitterMs) && !this.#relays.has(client)) throw new Error(`delay needs relayMedia(${client}, port) first`);
		await setRate(this.router, found.iface, next.downKbps);
		await setRate(found.ns, 'up0', next.upKbps);
		this.#impaired.set(client, next);
		await this.#applyImpairments();
		await this.#relays.get(client)?.set(next.rttMs ?? 0, next.jitterMs ?? 0);
	}

	/** Datagrams the media relay of `client` has forwarded (both directions). */
	async relayedDatagrams(client: string): Promise<number> {
		return (await this.#relays.get(client)?.set(this.#impaired.get(client)?.rttMs ?? 0, this.#impaired.get(client)?.jitterMs ?? 0)) ?? 0;
	}

	/**
	 * Moves `client` to a new address, as a phone leaving Wi-Fi for 4G: the
	 * new address (10.201.N.2, then 10.202.N.2, …) and its route come up,
	 * then the old address goes away with every socket bound to it. The
	 * router NATs it to a new port, so the server sees a new 5-tuple.
	 */
	async switchAddress(client: string): Promise<string> {
		const found = this.#client(client);
		const generation = Number(found.ip.split('.')[1]) + 1;
		const ip = `10.${generation}.${found.net}.2`;
		const gateway = `10.${generation}.${found.net}.1`;
		await this.#ip(this.router, 'addr', 'add', `${gateway}/24`, 'dev', found.iface);
		await this.#ip(found.ns, 'addr', 'add', `${ip}/24`, 'dev', 'up0');
		await this.#ip(found.ns, 'route', 'replace', 'default', 'via', gateway);
		await this.#ip(found.ns, 'addr', 'del', `${found.ip}/24`, 'dev', 'up0');
		found.ip = ip;
		return ip;
	}

	#client(name: string): { ns: string; ip: string; iface: string; net: number } {
		const found = this.#clients.get(name);
		if (!found) throw new Error(`no client namespace ${name}`);
		return found;
	}

	/** Rewrites the router's loss rules and media redirects from every client's impairment. */
	async #applyImpairments(): Promise<void> {
		const pre: string[] = [];
		const post: string[] = [];
		for (const [name, impairment] of this.#impaired) {
			const { iface } = this.#client(name);
			pre.push(...lossRule(`iifname "${iface}"`, impairment.upLossPercent ?? impairment.lossPercent));
			post.push(...lossRule(`oifname "${iface}"`, impairment.downLossPercent ?? impairment.lossPercent));
		}
		const redirects = [...this.#relays].map(([name, relay]) => `iifname "${this.#client(name).iface}" ip daddr ${this.serverIp} udp dport ${relay.targetPort} dnat to ${RELAY_IP}:${relay.port}`);
		const lines = [
			'table inet thimpair {}',
			'delete table inet thimpair',
			'table inet thimpair {',
			// Before conntrack: a dropped packet leaves no trace, as on the radio.
			'  chain pre {',
			'    type filter hook prerouting priority -300; policy accept;',
			...pre.map((r) => `    ${r}`),
			'  }',
			'  chain post {',
			'    type filter hook postrouting priority 300; policy accept;',
			...post.map((r) => `    ${r}`),
			'  }',
			'}',
			'table ip threlay {}',
			'delete table ip threlay',
			'table ip threlay {',
			'  chain pre {',
			'    type nat hook prerouting priority -100;',
			...redirects.map((r) => `    ${r}`),
			'  }',
			// The relay's answers get the server's address back here (conntrack undoes the redirect).
			'  chain post {',
			'    type nat hook postrouting priority 100;',
			'  }',
			'}',
		];
		await this.#nft(this.router, lines.join('\n'));
	}

	/** `[ip, netns, exec, ns]`: prefix for a command that must run inside `ns` (it execs, keeping the pid). */
	wrapper(ns: string): string[] {
		return [IP, 'netns', 'exec', ns];
	}

	/** Spawns `command` inside `ns`. */
	spawn(ns: string, command: string, args: string[], options: { env?: NodeJS.ProcessEnv } = {}): ChildProcess {
		return spawn(IP, ['netns', 'exec', ns, command, ...args], { stdio: ['ignore', 'pipe', 'pipe'], ...(options.env ? { env: options.env } : {}) });
	}

	/** A Chromium running inside the client namespace `client` (DevTools over a pipe). */
	async launchBrowser(client: string, extraArgs: string[] = []): Promise<TestBrowser> {
		const dir = mkdtempSync(path.join(tmpdir(), 'sfu-netns-chromium-'));
		const wrapper = path.join(dir, 'chromium-in-netns');
		writeFileSync(wrapper, `#!/bin/sh\nexec ${IP} netns exec ${this.namespace(client)} ${CHROMIUM} "$@"\n`);
		chmodSync(wrapper, 0o755);
		try {
			const browser = await launchBrowser(extraArgs, { executablePath: wrapper, pipe: true });
			const close = browser.close.bind(browser);
			browser.close = async () => {
				try {
					await close();
				} finally {
					rmSync(dir, { recursive: true, force: true });
				}
			};
			return browser;
		} catch (error) {
			rmSync(dir, { recursive: true, force: true });
			throw error;
		}
	}

	/**
	 * Ends every process still inside the namespaces (all started by this
	 * test), then deletes the namespaces with their links and rules.
	 * Idempotent; never throws.
	 */
	async close(): Promise<void> {
		if (this.#closed) return;
		this.#closed = true;
		for (const relay of this.#relays.values()) relay.stop();
		for (const ns of [...this.#namespaces].reverse()) {
			for (let attempt = 0; attempt < 20; attempt++) {
				const pids = await this.#pids(ns);
				if (pids.length === 0) break;
				for (const pid of pids) {
					try {
						process.kill(pid, attempt === 0 ? 'SIGTERM' : 'SIGKILL');
					} catch {
						// Already gone.
					}
				}
				await sleep(100);
			}
			await run(IP, ['netns', 'del', ns]).catch(() => undefined);
		}
	}

	async #pids(ns: string): Promise<number[]> {
		try {
			const { stdout } = await run(IP, ['netns', 'pids', ns]);
			return stdout
				.split(/\s+/)
				.filter(Boolean)
				.map(Number)
				.filter((pid) => isAlive(pid));
		} catch {
			return [];
		}
	}

	async #addNamespace(ns: string): Promise<void> {
		await run(IP, ['netns', 'add', ns]);
		this.#namespaces.push(ns);
		await this.#ip(ns, 'link', 'set', 'lo', 'up');
	}

	/** A veth pair between `nsA` (interface ifA) and the router (interface ifR), both up. */
	async #link(nsA: string, ifA: string, addrA: string, ifR: string, addrR: string): Promise<void> {
		await run(IP, ['link', 'add', ifA, 'netns', nsA, 'type', 'veth', 'peer', 'name', ifR, 'netns', this.router]);
		await this.#ip(nsA, 'addr', 'add', addrA, 'dev', ifA);
		await this.#ip(nsA, 'link', 'set', ifA, 'up');
		await this.#ip(this.router, 'addr', 'add', addrR, 'dev', ifR);
		await this.#ip(this.router, 'link', 'set', ifR, 'up');
	}

	async #ip(ns: string, ...args: string[]): Promise<void> {
		await run(IP, ['-n', ns, ...args]);
	}

	async #nft(ns: string, ruleset: string): Promise<void> {
		const child = spawn(IP, ['netns', 'exec', ns, NFT, '-f', '-'], { stdio: ['pipe', 'ignore', 'pipe'] });
		let stderr = '';
		child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
		child.stdin.end(ruleset);
		const [code] = (await once(child, 'exit')) as [number | null];
		if (code !== 0) throw new Error(`nft -f failed (${code}): ${stderr}\n${ruleset}`);
	}
}

/** A coturn started by a test inside a namespace, with the TURN REST shared secret. */
export interface TestTurnServer {
	port: number;
	/** Pid of turnserver (`ip netns exec` execs it). */
	pid: number;
	/** Everything coturn logged. */
	log(): string;
	stop(): Promise<void>;
}

export async function startCoturn(network: TestNetwork, ns: string, options: { ip: string; port?: number; secret: string }): Promise<TestTurnServer> {
	const port = options.port ?? 3478;
	const dir = mkdtempSync(path.join(tmpdir(), 'sfu-coturn-'));
	const proc = network.spawn(ns, TURNSERVER, [
		'-n', // no configuration file
		`--listening-ip=${options.ip}`,
		`--relay-ip=${options.ip}`,
		`--listening-port=${port}`,
		'--min-port=49160',
		'--max-port=49260',
		'--use-auth-secret',
		`--static-auth-secret=${options.secret}`,
		'--realm=telehealth.test',
		'--fingerprint',
		'--no-tls',
		'--no-dtls',
		'--no-cli',
		'--no-software-attribute',
		'--no-multicast-peers',
		'--simple-log',
		'--log-file=stdout',
		'--verbose',
		`--pidfile=${path.join(dir, 'turnserver.pid')}`,
		`--userdb=${path.join(dir, 'turndb')}`,
	]);
	let output = '';
	proc.stdout!.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
	proc.stderr!.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
	const exited = once(proc, 'exit');
	const stop = async (): Promise<void> => {
		if (proc.exitCode === null && proc.signalCode === null) {
			proc.kill('SIGTERM');
			const timer = setTimeout(() => proc.kill('SIGKILL'), 3000);
			await exited;
			clearTimeout(timer);
		}
		rmSync(dir, { recursive: true, force: true });
	};
	const deadline = Date.now() + 10_000;
	// coturn logs one line per listener it opened; the UDP one on our address means it serves.
	while (!new RegExp(`UDP listener opened on\\s*:\\s*${options.ip.replace(/\./g, '\\.')}:${port}`).test(output)) {
		if (proc.exitCode !== null || Date.now() > deadline) {
			await stop();
			throw new Error(`coturn did not start: ${output.slice(-2000)}`);
		}
		await sleep(50);
	}
	return { port, pid: proc.pid!, log: () => output, stop };
}

/**
 * How one client's link is impaired ({@link TestNetwork.impair}); an unset
 * field leaves that aspect clean.
 */
export interface LinkImpairment {
	/** Rate towards the client (its downlink), kbit/s: a tbf on the router's end of its link. */
	downKbps?: number;
	/** Rate from the client (its uplink), kbit/s: a tbf on the client's end. */
	upKbps?: number;
	/** Random loss of every packet, each direction, percent (100: nothing passes). */
	lossPercent?: number;
	/** Loss towards the client only (overrides lossPercent for that direction). */
	downLossPercent?: number;
	/** Loss from the client only. */
	upLossPercent?: number;
	/** Round trip added to the client's media (half each way), ms. Needs relayMedia. */
	rttMs?: number;
	/** ± variation of each datagram's one-way delay, ms (order kept). Needs relayMedia. */
	jitterMs?: number;
}

/** nftables statements dropping `percent` % of what `match` selects (none at 0). */
function lossRule(match: string, percent: number | undefined): string[] {
	if (!percent || percent <= 0) return [];
	if (percent >= 100) return [`${match} counter drop`];
	return [`${match} numgen random mod 10000 < ${Math.round(percent * 100)} counter drop`];
}

/**
 * A tbf on `iface` in `ns` (or none when `kbps` is unset): a bounded queue of
 * 200 ms, as a mobile or microwave link buffers before it drops; bursts of
 * 20 ms (at least 4 KB) so a key frame is paced, not passed at line rate.
 */
async function setRate(ns: string, iface: string, kbps: number | undefined): Promise<void> {
	if (!kbps) {
		await run(IP, ['netns', 'exec', ns, TC, 'qdisc', 'del', 'dev', iface, 'root']).catch(() => undefined);
		return;
	}
	const burstBytes = Math.max(4096, Math.round((kbps * 1000 * 0.02) / 8));
	await run(IP, ['netns', 'exec', ns, TC, 'qdisc', 'replace', 'dev', iface, 'root', 'tbf', 'rate', `${kbps}kbit`, 'burst', String(burstBytes), 'latency', '200ms']);
}

/** Where media relays listen: the router's address towards the server, which no client switch changes. */
const RELAY_IP = '10.200.1.1';

/** The delay relay (test/support/linkRelay.ts) running in the router namespace. */
class LinkRelay {
	readonly port: number;
	readonly targetPort: number;
	readonly #proc: ChildProcess;
	#output = '';

	private constructor(proc: ChildProcess, port: number, targetPort: number) {
		this.#proc = proc;
		this.port = port;
		this.targetPort = targetPort;
		proc.stdout!.setEncoding('utf8').on('data', (chunk: string) => (this.#output += chunk));
		proc.stderr!.setEncoding('utf8').on('data', (chunk: string) => (this.#output += chunk));
	}

	static async start(network: TestNetwork, port: number, targetIp: string, targetPort: number): Promise<LinkRelay> {
		const script = path.join(path.dirname(fileURLToPath(import.meta.url)), 'linkRelay.ts');
		const proc = spawn(IP, ['netns', 'exec', network.router, process.execPath, '--import', 'tsx', script, String(port), targetIp, String(targetPort), RELAY_IP], {
			stdio: ['pipe', 'pipe', 'pipe'],
			cwd: path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..'),
		});
		const relay = new LinkRelay(proc, port, targetPort);
		const deadline = Date.now() + 15_000;
		while (!relay.#output.includes('ready')) {
			if (proc.exitCode !== null || Date.now() > deadline) {
				relay.stop();
				throw new Error(`the link relay did not start: ${relay.#output}`);
			}
			await sleep(50);
		}
		return relay;
	}

	/** Sets delay and jitter; resolves with the datagrams forwarded so far. */
	async set(rttMs: number, jitterMs: number): Promise<number> {
		const before = this.#output.length;
		this.#proc.stdin!.write(`${JSON.stringify({ rttMs, jitterMs })}\n`);
		const deadline = Date.now() + 5000;
		for (;;) {
			const match = /\{"forwarded":(\d+)[^\n]*\n/.exec(this.#output.slice(before));
			if (match) return Number(match[1]);
			if (this.#proc.exitCode !== null || Date.now() > deadline) throw new Error(`the link relay did not answer: ${this.#output.slice(-500)}`);
			await sleep(20);
		}
	}

	stop(): void {
		this.#proc.stdin?.end();
		if (this.#proc.exitCode === null) this.#proc.kill('SIGKILL');
	}
}
