import type { types } from 'mediasoup';

export interface WorkerSettingsInput {
	logLevel: types.WorkerLogLevel;
	logTags: string[];
	rtcMinPort: number;
	rtcMaxPort: number;
}

/**
 * Settings for one mediasoup worker. Each worker gets its own slice of the
 * RTC port range so workers never compete for the same ports.
 */
export function workerSettings(input: WorkerSettingsInput, slot: number, slots: number): types.WorkerSettings {
	const span = input.rtcMaxPort - input.rtcMinPort + 1;
	const share = Math.max(1, Math.floor(span / slots));
	const rtcMinPort = input.rtcMinPort + slot * share;
	const rtcMaxPort = slot === slots - 1 ? input.rtcMaxPort : rtcMinPort + share - 1;
	return {
		logLevel: input.logLevel,
		logTags: input.logTags as types.WorkerLogTag[],
		rtcMinPort,
		rtcMaxPort,
	};
}
