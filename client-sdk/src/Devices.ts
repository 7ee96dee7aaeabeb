import type { DeviceKind } from './RoomEvent.js';
import { SdkError } from './SdkError.js';

/**
 * Lists the cameras, microphones or speakers of this browser. Browsers hide
 * device names until the page may capture; with `requestPermissions` (the
 * default) a short capture is made first so that the names can be shown in
 * a device picker.
 */
export async function getLocalDevices(kind?: DeviceKind, requestPermissions = true): Promise<MediaDeviceInfo[]> {
	if (!navigator.mediaDevices?.enumerateDevices) throw new SdkError('unsupported', 'this browser cannot list media devices (is the page served over https?)');
	let devices = await navigator.mediaDevices.enumerateDevices();
	const unnamed = devices.some((d) => (kind === undefined || d.kind === kind) && d.label === '' && d.kind !== 'audiooutput');
	if (requestPermissions && unnamed) {
		const wantVideo = kind === undefined || kind === 'videoinput';
		const wantAudio = kind === undefined || kind === 'audioinput' || kind === 'audiooutput';
		const hasVideo = devices.some((d) => d.kind === 'videoinput');
		const hasAudio = devices.some((d) => d.kind === 'audioinput');
		try {
			const stream = await navigator.mediaDevices.getUserMedia({ video: wantVideo && hasVideo, audio: wantAudio && hasAudio });
			for (const track of stream.getTracks()) track.stop();
			devices = await navigator.mediaDevices.enumerateDevices();
		} catch {
			// Refused: list them without names.
		}
	}
	return devices.filter((d) => (kind === undefined || d.kind === kind) && d.deviceId !== '');
}

/** Calls `listener` when devices are plugged in or out; returns the unsubscribe function. */
export function onDevicesChanged(listener: () => void): () => void {
	const devices = typeof navigator === 'undefined' ? undefined : navigator.mediaDevices;
	if (!devices?.addEventListener) return () => undefined;
	devices.addEventListener('devicechange', listener);
	return () => devices.removeEventListener('devicechange', listener);
}
