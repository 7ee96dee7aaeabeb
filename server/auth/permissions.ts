import type { Role, Source } from '../protocol/index.js';

/**
 * What each role may do, enforced on the server. Observers watch only;
 * devices publish only their device stream; only hosts moderate.
 */
const PUBLISHABLE: Readonly<Record<Role, readonly Source[]>> = {
	host: ['camera', 'microphone', 'screen', 'screen-audio', 'device'],
	clinician: ['camera', 'microphone', 'screen', 'screen-audio', 'device'],
	patient: ['camera', 'microphone', 'screen', 'screen-audio'],
	observer: [],
	device: ['device'],
};

export function canPublish(role: Role, source: Source): boolean {
	return PUBLISHABLE[role].includes(source);
}

/** Devices are encoders, not viewers. */
export function canConsume(role: Role): boolean {
	return role !== 'device';
}

/** Admit, deny, mute, remove, end the room. */
export function canModerate(role: Role): boolean {
	return role === 'host';
}

/** Patients wait for a host to admit them when the room has a waiting room. */
export function waitsForAdmission(role: Role, roomHasWaitingRoom: boolean): boolean {
	return roomHasWaitingRoom && role === 'patient';
}
