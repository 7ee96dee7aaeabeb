import { readFileSync } from 'node:fs';
import type { Logger } from 'pino';

/**
 * The host's UDP socket buffer settings and drop counter (Linux /proc).
 *
 * mediasoup 3.12 never sizes its sockets, so every worker socket — the
 * WebRtcServer port that all WebRTC peers of a worker share, ingest and
 * recording PlainTransports — gets net.core.rmem_default (208 KiB on most
 * distributions). That holds ≈ 100 video packets: a worker that is busy for
 * 10 ms while a hundred senders keep sending loses packets in the kernel, and
 * every lost input packet is lost for every viewer. Measured here with 100
 * consults (200 WebRTC peers): 1–10 % of audio lost at the worker's socket
 * with 208 KiB, none with 4 MiB.
 */
export interface UdpBufferSettings {
	/** net.core.rmem_default, bytes: what a socket that does not ask gets. */
	rmemDefault: number;
	/** net.core.rmem_max, bytes. */
	rmemMax: number;
	/** Host-wide UDP datagrams dropped because a receive buffer was full (Udp RcvbufErrors). */
	receiveBufferErrors: number;
}

/** What deploy/sysctl/99-telehealth-sfu.conf sets. */
export const RECOMMENDED_RMEM_DEFAULT = 4 * 2 ** 20;
/** Below this the node warns at start-up. */
export const MINIMUM_RMEM_DEFAULT = 1 * 2 ** 20;

const readNumber = (file: string): number | null => {
	try {
		const value = Number(readFileSync(file, 'utf8').trim());
		return Number.isFinite(value) ? value : null;
	} catch {
		return null;
	}
};

/**
 * The host's Udp RcvbufErrors so far, from /proc/net/snmp (a header line then a value line
 * per protocol); null where /proc does not tell.
 */
export function readReceiveBufferErrors(): number | null {
	try {
		const lines = readFileSync('/proc/net/snmp', 'utf8').split('\n').filter((l) => l.startsWith('Udp:'));
		const names = lines[0]?.split(/\s+/) ?? [];
		const values = lines[1]?.split(/\s+/) ?? [];
		const index = names.indexOf('RcvbufErrors');
		return index > 0 ? Number(values[index]) : null;
	} catch {
		return null;
	}
}

/** net.core.rmem_default, bytes; null where /proc does not tell. */
export function readRmemDefault(): number | null {
	return readNumber('/proc/sys/net/core/rmem_default');
}

/** The current settings; null where /proc does not tell (not Linux, restricted container). */
export function readUdpBufferSettings(): UdpBufferSettings | null {
	const rmemDefault = readRmemDefault();
	const rmemMax = readNumber('/proc/sys/net/core/rmem_max');
	const errors = readReceiveBufferErrors();
	if (rmemDefault === null || rmemMax === null || errors === null) return null;
	return { rmemDefault, rmemMax, receiveBufferErrors: errors };
}

/** Logs once at start-up whether media sockets will get buffers big enough for bursts. */
export function checkUdpBuffers(logger: Logger, settings = readUdpBufferSettings()): void {
	if (!settings) {
		logger.info('UDP buffer settings unknown (no /proc/sys/net/core); make sure net.core.rmem_default is at least 4 MiB');
		return;
	}
	if (settings.rmemDefault < MINIMUM_RMEM_DEFAULT) {
		logger.warn(
			{ rmemDefaultBytes: settings.rmemDefault, recommendedBytes: RECOMMENDED_RMEM_DEFAULT },
			'net.core.rmem_default is small: the mediasoup worker cannot size its sockets, so bursts from many senders are dropped in the kernel (install deploy/sysctl/99-telehealth-sfu.conf)',
		);
	} else {
		logger.info({ rmemDefaultBytes: settings.rmemDefault }, 'UDP receive buffers large enough for media bursts');
	}
}
