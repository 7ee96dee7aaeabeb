import { statfsSync } from 'node:fs';
import { Counter, Gauge, type Registry } from 'prom-client';
import type { RecordingService } from '../recording/index.js';
import { bounded, RECORDING_FAILURE_CODES } from './labels.js';

/**
 * Recordings, fed by RecordingService's and each Recording's events: active
 * count, bytes sealed into manifests, ffmpeg restarts, and how recordings end.
 */
export function registerRecordingMetrics(registry: Registry, recordings: RecordingService): void {
	const registers = [registry];
	new Gauge({
		name: 'sfu_recordings_active',
		help: 'Recordings in progress on this node.',
		registers,
		collect() {
			this.set(recordings.activeRecordings().length);
		},
	});
	new Gauge({
		name: 'sfu_recording_participants',
		help: 'Participants being recorded now, over all active recordings.',
		registers,
		collect() {
			this.set(recordings.activeRecordings().reduce((sum, r) => sum + r.recordedPeerIds.length, 0));
		},
	});
	new Gauge({
		name: 'sfu_recording_disk_free_bytes',
		help: 'Free bytes on the recordings disk (recordings stop cleanly below RECORDING_MIN_FREE_MB).',
		registers,
		collect() {
			try {
				const stats = statfsSync(recordings.dir);
				this.set(stats.bavail * stats.bsize);
			} catch {
				// The folder vanished: say nothing rather than a false zero.
			}
		},
	});
	const started = new Counter({ name: 'sfu_recordings_started_total', help: 'Recordings started.', registers });
	const stopped = new Counter({ name: 'sfu_recordings_stopped_total', help: 'Recordings ended, by result (stopped | failed).', labelNames: ['result'], registers });
	const failures = new Counter({ name: 'sfu_recording_failures_total', help: 'Recordings that failed, by code (disk_full, recorder_failed).', labelNames: ['code'], registers });
	const bytes = new Counter({ name: 'sfu_recording_bytes_total', help: 'Bytes of segments sealed into recording manifests.', registers });
	const segments = new Counter({ name: 'sfu_recording_segments_total', help: 'Segments sealed into recording manifests.', registers });
	const restarts = new Counter({ name: 'sfu_recording_ffmpeg_restarts_total', help: 'Recorder ffmpeg processes that died and were replaced (each leaves a gap in the manifest).', registers });
	// Zeros from the start: "no failure yet" is a value alerts can compare.
	for (const c of [started, bytes, segments, restarts]) c.inc(0);
	for (const result of ['stopped', 'failed']) stopped.inc({ result }, 0);
	for (const code of RECORDING_FAILURE_CODES) failures.inc({ code }, 0);

	recordings.observer.on('recordingstart', (recording) => {
		started.inc();
		recording.on('segment', (size) => {
			segments.inc();
			bytes.inc(size);
		});
		recording.on('recorderrestart', () => restarts.inc());
	});
	recordings.observer.on('recordingstop', (recording) => {
		const { state, error } = recording.manifest;
		stopped.inc({ result: state === 'failed' ? 'failed' : 'stopped' });
		if (state === 'failed') failures.inc({ code: bounded(error?.code, RECORDING_FAILURE_CODES) });
	});
}
