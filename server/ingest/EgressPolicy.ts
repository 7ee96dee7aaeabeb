import { lookup } from 'node:dns/promises';
import ipaddr from 'ipaddr.js';
import { SfuError } from '../protocol/index.js';

type Address = ipaddr.IPv4 | ipaddr.IPv6;

export interface EgressPolicyOptions {
	/**
	 * Operator allowlist (`INGEST_ALLOWED_HOSTS`): CIDRs (`10.20.0.0/16`,
	 * `fd00::/8`), single addresses (`127.0.0.1`), hostnames (`cam1.or.example`)
	 * and subdomain wildcards (`*.or.example`). Default: none.
	 */
	allowed?: readonly string[];
	/** Name resolution (tests inject a resolver; default: the system's, every address). */
	resolve?: (hostname: string) => Promise<string[]>;
}

/**
 * Where the server may connect on a host's behalf (pulled ingest sources):
 * anywhere public, and nowhere else — loopback, link-local (cloud metadata),
 * RFC 1918, CGNAT, ULA, multicast, reserved, IPv4 embedded in IPv6 — unless
 * the operator allowlists it. A name is resolved and every address it has is
 * checked (one bad address refuses the name), and callers connect to the
 * address returned, not the name, so a second lookup (DNS rebinding) cannot
 * switch the destination after the check.
 */
export class EgressPolicy {
	readonly #cidrs: [Address, number][] = [];
	readonly #names = new Set<string>();
	readonly #suffixes: string[] = [];
	readonly #resolve: (hostname: string) => Promise<string[]>;

	constructor(options: EgressPolicyOptions = {}) {
		for (const raw of options.allowed ?? []) {
			const entry = raw.trim().toLowerCase();
			if (!entry) continue;
			const address = parseAddress(entry);
			if (address) this.#cidrs.push([address, address.kind() === 'ipv4' ? 32 : 128]);
			else if (ipaddr.isValidCIDR(entry)) this.#cidrs.push(normalizeCidr(ipaddr.parseCIDR(entry)));
			else if (entry.startsWith('*.') && isHostname(entry.slice(2))) this.#suffixes.push(entry.slice(1));
			else if (isHostname(entry)) this.#names.add(entry.replace(/\.$/, ''));
			else throw new TypeError(`INGEST_ALLOWED_HOSTS: "${raw}" is neither a hostname nor an address or CIDR`);
		}
		this.#resolve = options.resolve ?? (async (hostname) => (await lookup(hostname, { all: true, verbatim: true })).map((a) => a.address));
	}

	/**
	 * Resolves `host` (a URL's hostname: a name, an IPv4 address or a
	 * bracketed IPv6 one) and returns the address to connect to, or throws
	 * `source_forbidden` (a destination the policy refuses) or
	 * `source_unreachable` (the name does not resolve).
	 */
	async check(host: string): Promise<string> {
		const name = host.toLowerCase().replace(/^\[(.*)\]$/, '$1').replace(/\.$/, '');
		if (!name) throw new SfuError('source_forbidden', 'the source has no host');
		const literal = parseAddress(name);
		let addresses: string[];
		if (literal) {
			addresses = [literal.toString()];
		} else {
			try {
				addresses = await this.#resolve(name);
			} catch {
				addresses = [];
			}
			if (addresses.length === 0) throw new SfuError('source_unreachable', 'the source’s host name does not resolve');
		}
		// An allowlisted name may point anywhere: the operator vouches for its DNS.
		const trustedName = !literal && (this.#names.has(name) || this.#suffixes.some((suffix) => name.endsWith(suffix)));
		for (const text of addresses) {
			const address = parseAddress(text);
			if (!address || (!trustedName && !this.allowsAddress(address))) {
				throw new SfuError('source_forbidden', 'the source’s address is private, loopback, link-local or otherwise not allowed on this server (see INGEST_ALLOWED_HOSTS)');
			}
		}
		return addresses[0]!;
	}

	/** Public unicast, or inside an allowlisted CIDR. */
	allowsAddress(address: Address): boolean {
		const plain = unmap(address);
		if (this.#cidrs.some(([net, bits]) => net.kind() === plain.kind() && plain.match(net, bits))) return true;
		// Only global unicast: every special range ipaddr.js knows (and any it
		// learns) is refused, including 6to4/Teredo/NAT64 forms that embed an IPv4.
		return plain.range() === 'unicast';
	}
}

/** An IP address literal (IPv4-mapped IPv6 kept as IPv6; see unmap), or null for a name. */
function parseAddress(text: string): Address | null {
	// Only canonical dotted quads: "127.1" or "0x7f.1" are left to the resolver,
	// which answers with the address they mean, and that answer is checked.
	if (ipaddr.IPv4.isValidFourPartDecimal(text)) return ipaddr.IPv4.parse(text);
	if (text.includes(':') && ipaddr.IPv6.isValid(text)) return ipaddr.IPv6.parse(text);
	return null;
}

/** `::ffff:127.0.0.1` is 127.0.0.1 to the kernel: judge it as such. */
function unmap(address: Address): Address {
	return address.kind() === 'ipv6' && (address as ipaddr.IPv6).isIPv4MappedAddress() ? (address as ipaddr.IPv6).toIPv4Address() : address;
}

function normalizeCidr([address, bits]: [Address, number]): [Address, number] {
	const plain = unmap(address);
	return plain === address ? [address, bits] : [plain, Math.max(0, bits - 96)];
}

function isHostname(text: string): boolean {
	return text.length <= 253 && /^[a-z0-9_]([a-z0-9_-]{0,62})(\.[a-z0-9_]([a-z0-9_-]{0,62}))*\.?$/.test(text);
}
