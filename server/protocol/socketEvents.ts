/** Socket.IO's typing of protocol v1: requests are events with an acknowledgement, notifications events without. */
import type { NotificationMap, NotificationName } from './notifications.js';
import type { RequestMethod, RequestOf } from './requests.js';
import type { ResponseOf } from './responses.js';
import type { Result } from './vocabulary.js';

export type Ack<M extends RequestMethod> = (result: Result<ResponseOf<M>>) => void;

export type ClientToServerEvents = {
	[M in RequestMethod]: (payload: RequestOf<M>, ack: Ack<M>) => void;
};

export type ServerToClientEvents = {
	[N in NotificationName]: (data: NotificationMap[N]) => void;
};
