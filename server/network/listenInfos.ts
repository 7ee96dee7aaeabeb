import type { types } from 'mediasoup';

/** One address a WebRtcServer listens on, and the address clients are told to use for it. */
export interface WebRtcAddress {
	/** Local address to bind ('0.0.0.0' or '::' for all). */
	ip: string;
	/** Address put in ICE candidates (the public or NAT address); default `ip`. */
	announcedIp?: string;
}

export interface WebRtcPorts {
	/** UDP and TCP port of slot 0 (slot N: port + N); 0 takes one from the worker's RTC range. */
	port: number;
	/** UDP port of slot 0 when it differs from `port`. */
	udpPort?: number | undefined;
	/** TCP port of slot 0 when it differs from `port` (e.g. 443 for hospitals that only open 443). */
	tcpPort?: number | undefined;
}

/**
 * The listen infos of one worker's WebRtcServer: every address on UDP, then
 * every address on TCP. Transports are created with `preferUdp`, so clients
 * whose UDP gets through use it and the others fall back to ICE-TCP.
 */
export function webRtcListenInfos(addresses: readonly WebRtcAddress[], ports: WebRtcPorts, slot: number): types.WebRtcServerListenInfo[] {
	const portOf = (port: number | undefined): { port?: number } => {
		const base = port ?? ports.port;
		return base === 0 ? {} : { port: base + slot };
	};
	const infos = (protocol: 'udp' | 'tcp', port: number | undefined): types.WebRtcServerListenInfo[] =>
		addresses.map((address) => ({
			protocol,
			ip: address.ip,
			...(address.announcedIp ? { announcedIp: address.announcedIp } : {}),
			...portOf(port),
		}));
	return [...infos('udp', ports.udpPort), ...infos('tcp', ports.tcpPort)];
}

/**
 * Parses `ip[/announcedIp]` (the WEBRTC_LISTEN_INFOS list form), e.g.
 * `0.0.0.0/203.0.113.7` or `10.1.2.3`. Returns undefined when malformed.
 */
export function parseWebRtcAddress(text: string): WebRtcAddress | undefined {
	const [ip, announcedIp, extra] = text.split('/').map((part) => part.trim());
	if (!ip || extra !== undefined || announcedIp === '') return undefined;
	return announcedIp ? { ip, announcedIp } : { ip };
}
