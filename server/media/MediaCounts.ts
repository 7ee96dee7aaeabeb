import type { types } from 'mediasoup';

/** Live mediasoup objects under one worker or router. */
export interface MediaCounts {
	routers: number;
	transports: number;
	producers: number;
	consumers: number;
}

export function emptyCounts(): MediaCounts {
	return { routers: 0, transports: 0, producers: 0, consumers: 0 };
}

export function addCounts(into: MediaCounts, from: MediaCounts): MediaCounts {
	into.routers += from.routers;
	into.transports += from.transports;
	into.producers += from.producers;
	into.consumers += from.consumers;
	return into;
}

/**
 * Keeps `counts` equal to the live objects of a router, through mediasoup's
 * observer events: bookkeeping never depends on business code remembering to
 * decrement, and pipe transports and their consumers are counted too.
 */
export function countRouter(router: types.Router, ...targets: MediaCounts[]): void {
	const bump = (key: keyof MediaCounts, delta: number): void => {
		for (const target of targets) target[key] += delta;
	};
	bump('routers', 1);
	router.observer.once('close', () => bump('routers', -1));
	router.observer.on('newtransport', (transport) => {
		bump('transports', 1);
		transport.observer.once('close', () => bump('transports', -1));
		transport.observer.on('newproducer', (producer) => {
			bump('producers', 1);
			producer.observer.once('close', () => bump('producers', -1));
		});
		transport.observer.on('newconsumer', (consumer) => {
			bump('consumers', 1);
			consumer.observer.once('close', () => bump('consumers', -1));
		});
	});
}
