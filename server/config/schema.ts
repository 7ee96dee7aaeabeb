import { hostname } from 'node:os';
import { isIP } from 'node:net';
import { z } from 'zod';
import { parseWebRtcAddress } from '../network/index.js';

/** pino log levels accepted by `LOG_LEVEL`. */
export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

/** mediasoup worker log levels accepted by `MEDIASOUP_LOG_LEVEL`. */
export const WORKER_LOG_LEVELS = ['debug', 'warn', 'error', 'none'] as const;

const port = z.number().int().min(0).max(65535);

/** `module=level` pairs (env list) or a `{ module: level }` object (config file). */
const ModuleLevelsSchema = z
	.union([z.array(z.string()), z.record(z.string(), z.string())])
	.transform((value, ctx) => {
		const pairs = Array.isArray(value) ? value.map((item) => item.split('=').map((part) => part.trim())) : Object.entries(value);
		const levels: Record<string, (typeof LOG_LEVELS)[number]> = {};
		for (const [module, level, extra] of pairs) {
			if (!module || !/^[a-z][a-z0-9.-]*$/.test(module) || extra !== undefined || !(LOG_LEVELS as readonly string[]).includes(level ?? '')) {
				ctx.addIssue({ code: 'custom', message: `must be module=level pairs, levels ${LOG_LEVELS.join(' | ')}` });
				return z.NEVER;
			}
			levels[module] = level as (typeof LOG_LEVELS)[number];
		}
		return levels;
	});

const rtcPort = z.number().int().min(1024).max(65535);

/** A WebRtcServer address: `ip` or `ip/announcedIp` (env), or `{ ip, announcedIp? }` (config file). */
const WebRtcAddressSchema = z
	.union([z.string(), z.strictObject({ ip: z.string(), announcedIp: z.string().min(1).optional() })])
	.transform((value, ctx) => {
		const address = typeof value === 'string' ? parseWebRtcAddress(value) : value;
		if (!address || isIP(address.ip) === 0) {
			ctx.addIssue({ code: 'custom', message: 'must be ip or ip/announcedIp, with a literal IP to listen on' });
			return z.NEVER;
		}
		return address;
	});

/** turn:, turns: or stun: URL with a host, optional port and optional transport. */
const ICE_URL = /^(turns?|stun):(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]+)(:\d{1,5})?(\?transport=(udp|tcp))?$/;

/**
 * The server's one configuration object. Every field has a default so the
 * single-process server starts with no configuration at all.
 */
export const ServerConfigSchema = z
	.object({
		http: z
			.object({
				/** PEM certificate chain: with `tlsKey`, HTTP and signaling are served over TLS. */
				tlsCert: z.string().min(1).optional(),
				/** PEM private key of `tlsCert`. */
				tlsKey: z.string().min(1).optional(),
				/** Address the HTTP/Socket.IO server listens on. Default '0.0.0.0'. */
				host: z.string().min(1).default('0.0.0.0'),
				/** TCP port; 0 picks a free one (logged at startup). Default 3000. */
				port: port.default(3000),
				/**
				 * Longest time a client may take to send a whole request (headers and body):
				 * a slowloris trickling bytes is cut off (408). Default 30000 ms.
				 */
				requestTimeoutMs: z.number().int().min(1000).max(600_000).default(30_000),
				/** A connection idle this long (nothing read or written) is closed; WebSockets ping well inside it. Default 120000 ms. */
				connectionTimeoutMs: z.number().int().min(1000).max(3_600_000).default(120_000),
				/** How long an idle keep-alive connection is kept between requests (above a load balancer's idle timeout). Default 72000 ms. */
				keepAliveTimeoutMs: z.number().int().min(1000).max(600_000).default(72_000),
			})
			.prefault({}),
		mediasoup: z
			.object({
				/** Number of mediasoup workers. Default: one per CPU core. */
				numWorkers: z.number().int().min(1).max(256).optional(),
				/**
				 * Path of the mediasoup-worker binary. Default: the binary built by
				 * worker-config/build-worker.sh (linked where mediasoup looks for it).
				 */
				workerBin: z.string().min(1).optional(),
				/** mediasoup worker log level. Default 'warn'. */
				logLevel: z.enum(WORKER_LOG_LEVELS).default('warn'),
				/** mediasoup worker log tags. Default: ice, dtls, rtp, srtp, rtcp. */
				logTags: z.array(z.string().min(1)).default(['ice', 'dtls', 'rtp', 'srtp', 'rtcp']),
				/** Lowest UDP/TCP port for RTC transports. Default 40000. */
				rtcMinPort: rtcPort.default(40000),
				/** Highest UDP/TCP port for RTC transports. Default 49999. */
				rtcMaxPort: rtcPort.default(49999),
				/**
				 * Delay before replacing a dead worker; doubles on repeated deaths
				 * within a minute, up to 30 s, so a crash loop cannot spin a core.
				 * Default 500 ms.
				 */
				workerRespawnDelayMs: z.number().int().min(0).max(60000).default(500),
			})
			.prefault({})
			.refine((m) => m.rtcMinPort <= m.rtcMaxPort, {
				message: 'rtcMinPort must not exceed rtcMaxPort',
				path: ['rtcMinPort'],
			}),
		webrtc: z
			.object({
				/** Address the WebRtcServers listen on. Default '127.0.0.1'; use '0.0.0.0' with `announcedIp` for LAN or public use. */
				listenIp: z.string().min(1).default('127.0.0.1'),
				/** Address given to clients in ICE candidates when it differs from listenIp (NAT, 0.0.0.0). */
				announcedIp: z.string().min(1).optional(),
				/**
				 * UDP and TCP port of worker 0's WebRtcServer; worker N uses port + N.
				 * 0 lets each worker pick from its RTC port range. Default 44444.
				 */
				port: port.default(44444),
				/**
				 * Listen addresses, each with the address announced for it (`ip` or
				 * `ip/announcedIp` strings, or `{ ip, announcedIp? }` objects). When set,
				 * they replace listenIp/announcedIp. Default: none.
				 */
				listenInfos: z.array(WebRtcAddressSchema).min(1).optional(),
				/** UDP port of worker 0 when it differs from `port` (worker N: + N). Default: `port`. */
				udpPort: port.optional(),
				/** TCP port of worker 0 when it differs from `port` (worker N: + N), e.g. 443. Default: `port`. */
				tcpPort: port.optional(),
				/** Cap on what one client may send, bits/s. Default 20 Mbit/s (1080p device streams). */
				maxIncomingBitrate: z.number().int().min(100_000).default(20_000_000),
				/** First estimate of a new consumer link, bits/s. Default 1 Mbit/s. */
				initialAvailableOutgoingBitrate: z.number().int().min(100_000).default(1_000_000),
			})
			.prefault({}),
		turn: z
			.object({
				/**
				 * TURN (and STUN) servers handed to clients with each transport, e.g.
				 * `turn:turn.example.org:3478?transport=udp`, `turns:turn.example.org:443?transport=tcp`.
				 * Default: none.
				 */
				urls: z.array(z.string().regex(ICE_URL, 'must be turn:, turns: or stun: URLs (host[:port][?transport=udp|tcp])')).default([]),
				/** Shared secret of the TURN server's `static-auth-secret` (TURN REST credentials). Required with turn: URLs. */
				secret: z.string().min(16, 'must be at least 16 characters').optional(),
				/** Lifetime of the credentials minted for each transport, seconds. Default 3600. */
				ttlSeconds: z.number().int().min(60).max(7 * 86400).default(3600),
			})
			.prefault({}),
		auth: z
			.object({
				/** HS256 secret shared with portals (`JWT_SECRET`). */
				jwtSecret: z.string().min(16, 'must be at least 16 characters').optional(),
				/** PEM public key for RS256 / EdDSA tokens (`JWT_PUBLIC_KEY` or `JWT_PUBLIC_KEY_FILE`). */
				jwtPublicKey: z.string().min(1).optional(),
				/** Required `aud` claim of every token. Default: not checked. */
				audience: z.string().min(1).max(256).optional(),
				/** Required `iss` claim of every token. Default: not checked. */
				issuer: z.string().min(1).max(256).optional(),
				/** Longest token lifetime accepted (exp − iat, or exp − now), seconds; 0: no limit. Default 86400. */
				maxLifetimeSeconds: z.number().int().min(0).max(366 * 86400).default(86400),
				/** HS256 secret of admin tokens; when set (or `adminPublicKey`), the join keys no longer verify admins. */
				adminSecret: z.string().min(16, 'must be at least 16 characters').optional(),
				/** PEM public key (RSA or Ed25519) of admin tokens. */
				adminPublicKey: z.string().min(1).optional(),
			})
			.prefault({}),
		/**
		 * Demo mode: offers GET /api/dev/token so a person can try the demo page
		 * without a portal, and generates a JWT secret when none is set. Never
		 * enable in production. Default false.
		 */
		demo: z.boolean().default(false),
		/**
		 * Demo mode listens on loopback only (anyone who reaches it can mint a host
		 * token). Set to serve a demo on another address (HTTP_HOST). Default false.
		 */
		demoPublic: z.boolean().default(false),
		rooms: z
			.object({
				/** Whether patients wait for a host to admit them, unless the room-creating token says otherwise. Default true. */
				waitingRoom: z.boolean().default(true),
				/** How long a peer whose connection dropped is kept for it to resume. Default 30000 ms. */
				peerGracePeriodMs: z.number().int().min(0).max(600_000).default(30_000),
				/** How long an empty room lives before it closes. Default 30000 ms. */
				emptyRoomTimeoutMs: z.number().int().min(0).max(3_600_000).default(30_000),
				/** Consumers one router takes before the room spreads to another worker. Default 500. */
				consumerBudgetPerRouter: z.number().int().min(1).max(100_000).default(500),
				/** Rooms this node hosts at once. Default 1000. */
				maxRoomsPerNode: z.number().int().min(1).max(1_000_000).default(1000),
				/** Peers (including waiting ones) per room. Default 100. */
				maxPeersPerRoom: z.number().int().min(1).max(10_000).default(100),
				/** Producers per peer. Default 8. */
				maxProducersPerPeer: z.number().int().min(1).max(64).default(8),
			})
			.prefault({}),
		signaling: z
			.object({
				/** Socket.IO engine: Node's http server, or uWebSockets.js on its own port. Default 'node'. */
				engine: z.enum(['node', 'uws']).default('node'),
				/** Port of the uWebSockets.js engine (engine 'uws'). Default 3001. */
				uwsPort: port.default(3001),
				/** Largest signaling message in bytes. Default 262144. */
				maxPayloadBytes: z.number().int().min(1024).max(10_000_000).default(256 * 1024),
				/** Requests one socket may send per second (burst twice that). Default 50. */
				requestsPerSecond: z.number().int().min(1).max(10_000).default(50),
				/** Signaling connections one IP address may hold at once (a hospital NAT: be generous). Default 200. */
				maxConnectionsPerIp: z.number().int().min(1).max(100_000).default(200),
				/** Origins allowed to connect from browsers; empty allows any origin. */
				corsOrigins: z.array(z.string().min(1)).default([]),
				/** Connections, from all addresses, that have not authenticated yet; more are refused. Default 1000. */
				maxUnauthenticated: z.number().int().min(1).max(1_000_000).default(1000),
				/** A connection that has not authenticated this long after it opened is closed. Default 10000 ms. */
				handshakeTimeoutMs: z.number().int().min(500).max(120_000).default(10_000),
			})
			.prefault({}),
		cluster: z
			.object({
				/** This node's id in the cluster, audit trail and metrics. Default: the host name. */
				nodeId: z
					.string()
					.min(1)
					.max(64)
					.regex(/^[A-Za-z0-9._-]+$/, 'must contain only letters, digits and . _ -')
					.default(() => hostname().replace(/[^A-Za-z0-9._-]/g, '-').slice(0, 64) || 'node'),
				/** Redis for cluster state; unset: a single node with in-memory state. */
				redisUrl: z.string().url().optional(),
				/** How clients reach this node (announced in the registry). Default http://<HTTP_HOST or host name>:<PORT>. */
				publicUrl: z.string().url().optional(),
				/** Heartbeat period; a node missing 3 heartbeats is gone. Default 2000 ms. */
				heartbeatMs: z.number().int().min(200).max(60_000).default(2000),
				/** Peers this node takes before /readyz turns false and new rooms go elsewhere. Default 2000. */
				maxPeers: z.number().int().min(1).max(1_000_000).default(2000),
				/** Shared secret authenticating node-to-node calls (HMAC). Required with redisUrl. */
				secret: z.string().min(16, 'must be at least 16 characters').optional(),
				/** How other nodes reach this one for pipe set-up. Default: publicUrl. */
				internalUrl: z.string().url().optional(),
				/**
				 * 'span': a room's participants may be on any node, media piped between
				 * them; 'redirect': a room lives on its origin node and other nodes
				 * answer room_elsewhere. Default 'span'.
				 */
				roomMode: z.enum(['span', 'redirect']).default('span'),
				/** How long a pipe from another node lingers after its last local consumer closed. Default 5000 ms. */
				pipeLingerMs: z.number().int().min(0).max(600_000).default(5000),
				/** Address PipeTransports to other nodes listen on. Default '127.0.0.1'. */
				pipeIp: z.string().min(1).default('127.0.0.1'),
				/** Address other nodes send pipe media to, when it differs (NAT). */
				pipeAnnouncedIp: z.string().min(1).optional(),
			})
			.prefault({}),
		/** Where the node keeps its data (recordings, keys, audit trail). Default './data'. */
		dataDir: z.string().min(1).default('./data'),
		recording: z
			.object({
				/** Recordings folder. Default `<dataDir>/recordings`. */
				dir: z.string().min(1).optional(),
				/** Segment length in seconds. Default 60. */
				segmentSeconds: z.number().int().min(1).max(3600).default(60),
				/** ffmpeg binary. Default: ffmpeg-static's if present, else ffmpeg on PATH. */
				ffmpegPath: z.string().min(1).optional(),
				/** Local UDP ports ffmpeg receives RTP on. Default 30000-30999. */
				portMin: rtcPort.default(30000),
				portMax: rtcPort.default(30999),
				/** Record only participants who consented, unless the host says otherwise. Default false. */
				requireConsent: z.boolean().default(false),
				/**
				 * Free space (MiB) the recordings disk must keep: below it recordings stop
				 * cleanly (segments sealed, host told) instead of dying on a full disk. Default 512.
				 */
				minFreeMb: z.number().int().min(0).max(1_000_000).default(512),
				/**
				 * Recorder ffmpeg processes the node runs at once (one per recorded
				 * participant, across all recordings); past it new recordings are refused
				 * (`limit_exceeded`) and further participants are not recorded
				 * (`recording_capacity`). Default 64.
				 */
				maxFfmpeg: z.number().int().min(1).max(10_000).default(64),
				/** Compose each stopped recording into one consult video (grid, mixed audio, UTC clock). Default true. */
				compose: z.boolean().default(true),
			})
			.prefault({}),
		ingest: z
			.object({
				/** Local files may be pulled only from under this folder; unset disables file sources. */
				fileRoot: z.string().min(1).optional(),
				/** Pulled sources per room. Default 4. */
				maxSourcesPerRoom: z.number().int().min(0).max(64).default(4),
				/**
				 * Private/loopback/link-local destinations pulled sources may reach:
				 * hostnames, `*.suffix`, addresses, CIDRs. Default: none (public addresses only).
				 */
				allowedHosts: z.array(z.string().min(1).max(253).regex(/^[\w.:*/%-]+$/, 'must be a hostname, *.suffix, address or CIDR')).default([]),
				/** Where push-ingest endpoints listen. Default: webrtc.listenIp (or the first of webrtc.listenInfos). */
				listenIp: z.string().min(1).optional(),
				/** Address devices are told to send to. Default: webrtc.announcedIp (or the first of webrtc.listenInfos'). */
				announcedIp: z.string().min(1).optional(),
			})
			.prefault({}),
		/** Ed25519 key that signs recording manifests. Default `<dataDir>/keys/signing-ed25519.pem` (created). */
		signingKeyFile: z.string().min(1).optional(),
		log: z
			.object({
				/** Root log level. Default 'info'. */
				level: z.enum(LOG_LEVELS).default('info'),
				/**
				 * Level per module, e.g. `{ "rooms": "debug", "signaling": "warn" }` (env:
				 * `rooms=debug,signaling=warn`); `media` covers `media.worker-pool`. Default: none.
				 */
				levels: ModuleLevelsSchema.default({}),
				/** Key that makes room references in logs and metrics unguessable (same on every node). Default: none. */
				idKey: z.string().min(8, 'must be at least 8 characters').optional(),
			})
			.prefault({}),
		metrics: z
			.object({
				/** Serve Prometheus metrics at /metrics. Default true. */
				enabled: z.boolean().default(true),
				/** Serve /metrics on this separate (admin) port instead of the HTTP port. Default: the HTTP port. */
				port: port.optional(),
				/** Listen address of the separate metrics port. Default '127.0.0.1'. */
				host: z.string().min(1).default('127.0.0.1'),
				/**
				 * Bearer token that may read /metrics on the HTTP port (besides admin
				 * tokens); without it or an admin token the HTTP port answers 401. Default: none.
				 */
				token: z.string().min(16, 'must be at least 16 characters').optional(),
				/** How often mediasoup transport/producer/consumer stats are sampled; 0 turns sampling off. Default 10000 ms. */
				statsIntervalMs: z.number().int().min(0).max(600_000).default(10_000),
				/** Most mediasoup objects sampled per interval (the rest on later intervals, round-robin). Default 2000. */
				statsMaxObjects: z.number().int().min(1).max(100_000).default(2000),
				/** Add an opaque `room` label to per-room metrics (cardinality grows with rooms). Default false. */
				roomLabels: z.boolean().default(false),
			})
			.prefault({}),
		audit: z
			.object({
				/** Keep the tamper-evident audit trail (JSON lines under `<dir>/<nodeId>/`). Default true. */
				enabled: z.boolean().default(true),
				/** Root of the trails; each node writes its own folder in it. Default `<dataDir>/audit`. */
				dir: z.string().min(1).optional(),
				/** A trail file is sealed and the next begun past this size in MiB (and at each UTC day). Default 64. */
				maxFileMb: z.number().int().min(1).max(4096).default(64),
				/** A signed checkpoint after this many entries. Default 100. */
				checkpointEntries: z.number().int().min(1).max(100_000).default(100),
				/** …or this long after the first entry not yet signed. Default 60000 ms. */
				checkpointIntervalMs: z.number().int().min(100).max(3_600_000).default(60_000),
				/**
				 * Free space (MiB) the audit disk keeps: below it entries wait in memory
				 * (bounded; what overflows is counted) and an error is logged, instead of
				 * filling the disk. Keep it below RECORDING_MIN_FREE_MB when both share a
				 * disk: recordings stop first, the trail keeps recording that. Default 64.
				 */
				minFreeMb: z.number().int().min(0).max(1_000_000).default(64),
				/** Refusals of unauthenticated clients are counted per address in windows this long. Default 60000 ms. */
				refusalIntervalMs: z.number().int().min(1000).max(3_600_000).default(60_000),
				/** Addresses counted separately per window; the rest share one "others" count. Default 100. */
				refusalMaxAddresses: z.number().int().min(1).max(100_000).default(100),
			})
			.prefault({}),
		retention: z
			.object({
				/** Stopped recordings are deleted this many days after they stopped (never under legal hold); 0 keeps them forever. Default 0. */
				recordingDays: z.number().int().min(0).max(36_500).default(0),
				/** Audit files are deleted this many days after their last entry; 0 keeps them forever. Default 0. */
				auditDays: z.number().int().min(0).max(36_500).default(0),
				/** How often the retention job runs. Default 3600000 ms (1 h). */
				intervalMs: z.number().int().min(1000).max(7 * 86_400_000).default(3_600_000),
			})
			.prefault({}),
		/** How long a graceful shutdown may take before the process exits anyway. Default 10000 ms. */
		shutdownTimeoutMs: z.number().int().min(100).max(120000).default(10000),
		/**
		 * In a spanning cluster, SIGTERM drains first: clients are told to reconnect
		 * (to other nodes), and the node waits this long at most for them to go
		 * before shutting down. Default 20000 ms.
		 */
		drainTimeoutMs: z.number().int().min(0).max(600_000).default(20_000),
	})
	.strict();

export type ServerConfig = z.output<typeof ServerConfigSchema>;
export type ServerConfigInput = z.input<typeof ServerConfigSchema>;
