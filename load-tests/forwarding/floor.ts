/**
 * System (c), the physical floor: relay.c, one sendmmsg() of N datagrams per
 * input packet, no parsing or rewriting. Pinned to core 1 like the SFUs.
 */
import type { NativeTools } from './native.js';
import { firstLine, spawnTracked, stopChild } from './processes.js';
import { SYSTEM_CORE, type RunningSystem, type SystemStarter } from './trial.js';

export function floorSystem(tools: NativeTools, maxSeconds: number): SystemStarter {
	return async (sinkPorts): Promise<RunningSystem> => {
		const relay = spawnTracked(tools.bin.relay, [String(maxSeconds), sinkPorts.join(',')], { cpus: SYSTEM_CORE, stdio: ['ignore', 'pipe', 'ignore'] });
		const inputPort = Number(await firstLine(relay, 5000, 'relay'));
		// The relay passes the input through untouched: any SSRC / payload type will do.
		return { pid: relay.pid!, inputPort, ssrc: 22_222_222, payloadType: 102, close: () => stopChild(relay) };
	};
}
