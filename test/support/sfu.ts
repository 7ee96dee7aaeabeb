import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { io, type Socket } from 'socket.io-client';
import { SignJWT } from 'jose';
import { pino } from 'pino';
import { loadConfig } from '../../server/config/index.js';
import { SfuServer } from '../../server/SfuServer.js';
import type {
	ClientToServerEvents,
	NotificationMap,
	NotificationName,
	RequestMethod,
	RequestOf,
	ResponseOf,
	Result,
	Role,
	ServerToClientEvents,
} from '../../server/protocol/index.js';
import { TEST_JWT_SECRET } from './serverProcess.js';
import { waitFor } from './processes.js';

/** An SFU running inside the test process, so tests can read its counts. */
export interface TestSfu {
	server: SfuServer;
	url: string;
	/** The server's DATA_DIR (a temporary folder, removed by close()). */
	dataDir: string;
	/** Every log line the server wrote, parsed. */
	logs: Record<string, unknown>[];
	close(): Promise<void>;
}

export async function startSfu(env: Record<string, string> = {}): Promise<TestSfu> {
	const dataDir = mkdtempSync(path.join(tmpdir(), 'sfu-data-'));
	const config = loadConfig({
		DATA_DIR: dataDir,
		PORT: '0',
		HTTP_HOST: '127.0.0.1',
		JWT_SECRET: TEST_JWT_SECRET,
		WEBRTC_LISTEN_IP: '127.0.0.1',
		WEBRTC_PORT: '0',
		MEDIASOUP_NUM_WORKERS: '1',
		LOG_LEVEL: 'debug',
		...env,
	});
	const logs: Record<string, unknown>[] = [];
	const sink = new Writable({
		write(chunk: Buffer, _encoding, done) {
			for (const line of chunk.toString('utf8').split('\n')) if (line) logs.push(JSON.parse(line) as Record<string, unknown>);
			done();
		},
	});
	const logger = pino({ level: config.log.level }, sink);
	const server = await SfuServer.start(config, logger);
	return {
		server,
		url: `http://127.0.0.1:${server.port}`,
		logs,
		dataDir,
		async close() {
			await server.close();
			rmSync(dataDir, { recursive: true, force: true });
		},
	};
}

export interface TokenClaims {
	sub?: string;
	room: string;
	role: Role;
	name?: string;
	/** Seconds from now; negative for an expired token. */
	ttl?: number;
	waitingRoom?: boolean;
	[claim: string]: unknown;
}

let subCounter = 0;

/** Mints a join token exactly as a portal would (HS256 over JWT_SECRET). */
export async function mintToken(claims: TokenClaims, secret = TEST_JWT_SECRET): Promise<string> {
	const { sub, ttl = 600, name, ...rest } = claims;
	return new SignJWT({ name: name ?? `Test ${claims.role}`, ...rest })
		.setProtectedHeader({ alg: 'HS256' })
		.setSubject(sub ?? `user-${++subCounter}`)
		.setIssuedAt()
		.setExpirationTime(Math.floor(Date.now() / 1000) + ttl)
		.sign(new TextEncoder().encode(secret));
}

type Notification = { [N in NotificationName]: { name: N; data: NotificationMap[N] } }[NotificationName];

/** A protocol client speaking to the server with socket.io-client. */
export class TestClient {
	readonly socket: Socket<ServerToClientEvents, ClientToServerEvents>;
	readonly notifications: Notification[] = [];

	private constructor(socket: Socket<ServerToClientEvents, ClientToServerEvents>) {
		this.socket = socket;
		socket.onAny((name: NotificationName, data: unknown) => {
			this.notifications.push({ name, data } as Notification);
		});
	}

	/** Connects; rejects with the connect_error (its `data` holds the code). */
	static async connect(url: string, auth: Record<string, unknown> | undefined, options: { reconnection?: boolean } = {}): Promise<TestClient> {
		const socket = io(url, {
			transports: ['websocket'],
			...(auth ? { auth } : {}),
			reconnection: options.reconnection ?? false,
			forceNew: true,
		}) as Socket<ServerToClientEvents, ClientToServerEvents>;
		await new Promise<void>((resolve, reject) => {
			socket.once('connect', () => resolve());
			socket.once('connect_error', (error) => {
				socket.close();
				reject(error);
			});
		});
		return new TestClient(socket);
	}

	/** Sends a request and returns the server's Result. */
	request<M extends RequestMethod>(method: M, payload: RequestOf<M>, timeoutMs = 10_000): Promise<Result<ResponseOf<M>>> {
		return this.raw(method, payload, timeoutMs) as Promise<Result<ResponseOf<M>>>;
	}

	/** Sends anything at all (for bad-input tests). */
	raw(event: string, payload: unknown, timeoutMs = 10_000): Promise<Result<unknown>> {
		return (this.socket as unknown as Socket).timeout(timeoutMs).emitWithAck(event, payload) as Promise<Result<unknown>>;
	}

	/** Like request, but throws on an error result. */
	async ok<M extends RequestMethod>(method: M, payload: RequestOf<M>): Promise<ResponseOf<M>> {
		const result = await this.request(method, payload);
		if (!result.ok) throw new Error(`${method} failed: ${result.error.code}: ${result.error.message}`);
		return result.data;
	}

	async waitForNotification<N extends NotificationName>(name: N, match: (data: NotificationMap[N]) => boolean = () => true, timeoutMs = 5000): Promise<NotificationMap[N]> {
		const found = await waitFor(
			() => this.notifications.find((n) => n.name === name && match(n.data as NotificationMap[N])),
			timeoutMs,
			`notification ${name}`,
		);
		return found.data as NotificationMap[N];
	}

	close(): void {
		this.socket.close();
	}
}
