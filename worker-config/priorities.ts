/**
 * Consumer priorities by source (mediasoup: 1..255, higher gets bandwidth
 * first when a viewer's link is congested). A clinical device stream outranks
 * shared imaging, which outranks faces; audio is cheap and never starved.
 */
export const CONSUMER_PRIORITY = {
	device: 255,
	microphone: 200,
	'screen-audio': 150,
	screen: 128,
	camera: 1,
} as const satisfies Record<string, number>;

export function consumerPriority(source: keyof typeof CONSUMER_PRIORITY): number {
	return CONSUMER_PRIORITY[source];
}
