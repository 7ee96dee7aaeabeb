import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import { ERROR_CODES, type SignalingEvents } from '../protocol/index.js';
import { bounded, DISCONNECT_REASONS } from './labels.js';

/** What signaling metrics observe: the signaling server fits. */
export interface SignalingSource {
	readonly observer: SignalingEvents;
	/** Connected sockets now. */
	readonly connections: number;
}

/** Socket.IO connections, requests by method and outcome, errors by code, ack latency, notifications by name. */
export function registerSignalingMetrics(registry: Registry, signaling: SignalingSource): void {
	const registers = [registry];
	new Gauge({
		name: 'sfu_signaling_connections',
		help: 'Connected signaling sockets.',
		registers,
		collect() {
			this.set(signaling.connections);
		},
	});
	const connections = new Counter({ name: 'sfu_signaling_connections_total', help: 'Signaling sockets accepted (token verified).', registers });
	const disconnects = new Counter({
		name: 'sfu_signaling_disconnects_total',
		help: 'Signaling sockets closed, by Socket.IO reason (ping timeout: a link went silent).',
		labelNames: ['reason'],
		registers,
	});
	const refused = new Counter({ name: 'sfu_signaling_connections_refused_total', help: 'Handshakes refused, by auth error code.', labelNames: ['code'], registers });
	const requests = new Counter({ name: 'sfu_signaling_requests_total', help: 'Signaling requests answered, by method and outcome (ok | error).', labelNames: ['method', 'outcome'], registers });
	const errors = new Counter({ name: 'sfu_signaling_errors_total', help: 'Signaling requests answered with an error, by stable error code.', labelNames: ['code'], registers });
	const ackSeconds = new Histogram({
		name: 'sfu_signaling_ack_seconds',
		help: 'From a request reaching the server to its acknowledgement (rate limiting and queueing included), by method.',
		labelNames: ['method'],
		buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
		registers,
	});
	const notifications = new Counter({ name: 'sfu_signaling_notifications_total', help: 'Notifications sent to peers, by name.', labelNames: ['name'], registers });
	connections.inc(0);
	errors.inc({ code: 'internal_error' }, 0);

	signaling.observer.on('request', ({ method, seconds, code }) => {
		const methodLabel = method ?? 'unknown';
		requests.inc({ method: methodLabel, outcome: code ? 'error' : 'ok' });
		ackSeconds.observe({ method: methodLabel }, seconds);
		if (code) errors.inc({ code: bounded(code, ERROR_CODES) });
	});
	signaling.observer.on('refused', (code) => refused.inc({ code: bounded(code, ERROR_CODES) }));
	signaling.observer.on('connection', () => connections.inc());
	// Only this server names notifications (the protocol's NotificationName): a bounded set.
	signaling.observer.on('notification', (name) => notifications.inc({ name: name.slice(0, 40) }));
	signaling.observer.on('disconnect', (reason) => disconnects.inc({ reason: bounded(reason, DISCONNECT_REASONS).replaceAll(' ', '_') }));
}
