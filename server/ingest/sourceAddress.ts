import ipaddr from 'ipaddr.js';
import { SfuError } from '../protocol/index.js';

/**
 * Parses a push endpoint's `sourceAddress`: `ip`, `ip:port`, `ipv6` or
 * `[ipv6]:port`, into the address mediasoup reports senders with (IPv4 dotted,
 * IPv6 in RFC 5952 form). The port must leave room for RTCP on port + 1.
 */
export function parseSourceAddress(text: string): { ip: string; port?: number } {
	const bracketed = /^\[([^\]]+)\](?::(\d+))?$/.exec(text);
	const v4WithPort = /^([0-9.]+):(\d+)$/.exec(text);
	const [host, portText] = bracketed ? [bracketed[1]!, bracketed[2]] : v4WithPort ? [v4WithPort[1]!, v4WithPort[2]] : [text, undefined];
	if (!ipaddr.isValid(host) || (host.includes('.') && !host.includes(':') && !ipaddr.IPv4.isValidFourPartDecimal(host))) {
		throw new SfuError('invalid_payload', 'sourceAddress must be an IP address, optionally with a port');
	}
	const parsed = ipaddr.parse(host);
	const address = parsed.kind() === 'ipv6' && (parsed as ipaddr.IPv6).isIPv4MappedAddress() ? (parsed as ipaddr.IPv6).toIPv4Address() : parsed;
	if (portText === undefined) return { ip: address.toString() };
	const port = Number(portText);
	if (!Number.isInteger(port) || port < 1 || port > 65534) throw new SfuError('invalid_payload', 'sourceAddress port must be 1–65534 (RTCP comes from port + 1)');
	return { ip: address.toString(), port };
}
