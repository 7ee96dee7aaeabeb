import { Redis } from 'ioredis';

/** Reconnect backoff of every Redis connection: 200 ms more per attempt, at most 2 s. */
const retryStrategy = (times: number): number => Math.min(200 * times, 2000);

export interface RedisClientOptions {
	/**
	 * Fail commands at once while disconnected instead of queueing them (calls
	 * answer `unavailable` rather than hang). Default false.
	 */
	failFast?: boolean;
	/** Connect on the first command (or `connect()`) rather than now. Default false. */
	lazy?: boolean;
	/**
	 * Reconnections a command waits through before it fails. Default 1; the
	 * signaling adapter's blocking stream reads wait longer (20, ioredis's default).
	 */
	commandRetries?: number;
}

/**
 * The one way a node opens a Redis connection: the same reconnect backoff,
 * bounded retries per command, and connection errors left to the owner's own
 * health reporting (ioredis reports every failed reconnection, which would
 * flood the log during a Redis restart).
 */
export function createRedisClient(url: string, options: RedisClientOptions = {}): Redis {
	const client = new Redis(url, {
		retryStrategy,
		maxRetriesPerRequest: options.commandRetries ?? 1,
		...(options.lazy ? { lazyConnect: true } : {}),
		...(options.failFast ? { enableOfflineQueue: false } : {}),
	});
	client.on('error', () => undefined);
	return client;
}
