/**
 * Builds the node's services from the configuration: the composition root's
 * factories, so SfuServer only wires them together.
 */
import { randomBytes } from 'node:crypto';
import { availableParallelism } from 'node:os';
import path from 'node:path';
import { ROUTER_MEDIA_CODECS } from '../worker-config/index.js';
import { TokenVerifier } from './auth/index.js';
import type { ServerConfig } from './config/index.js';
import { IngestService } from './ingest/index.js';
import { SigningKey } from './integrity/index.js';
import { moduleLogger, type Logger } from './logger/index.js';
import { WorkerPool } from './media/index.js';
import { TurnCredentials, type IceServer } from './network/index.js';
import { RecordingService, resolveFfmpeg, resolveFfprobe, type RecordingCluster } from './recording/index.js';
import { RoomRegistry, type RoomAdmissions, type RoomPlacement } from './rooms/index.js';

/** The Ed25519 key file that signs recording manifests and audit checkpoints. */
export function signingKeyFile(config: ServerConfig): string {
	return path.resolve(config.signingKeyFile ?? path.join(config.dataDir, 'keys', 'signing-ed25519.pem'));
}

/** Join-token verification: JWT_SECRET and/or JWT_PUBLIC_KEY; in demo mode without either, an ephemeral secret. */
export function createVerifier(config: ServerConfig, logger: Logger): TokenVerifier {
	let secret = config.auth.jwtSecret;
	if (!secret && !config.auth.jwtPublicKey) {
		// Only reachable with DEMO=1 (config refuses otherwise): tokens then
		// come from /api/dev/token and die with the process.
		secret = randomBytes(32).toString('base64url');
		logger.warn('demo mode without JWT_SECRET: generated an ephemeral secret; portal tokens will not verify');
	}
	const { audience, issuer, maxLifetimeSeconds, adminSecret, adminPublicKey } = config.auth;
	const admin = adminSecret || adminPublicKey ? { ...(adminSecret ? { secret: adminSecret } : {}), ...(adminPublicKey ? { publicKey: adminPublicKey } : {}) } : undefined;
	if (!admin && !config.demo) logger.warn('admin tokens are verified with the join-token key: set ADMIN_JWT_SECRET or ADMIN_JWT_PUBLIC_KEY so portals cannot mint admins');
	return new TokenVerifier({
		...(secret ? { secret } : {}),
		...(config.auth.jwtPublicKey ? { publicKey: config.auth.jwtPublicKey } : {}),
		...(audience ? { audience } : {}),
		...(issuer ? { issuer } : {}),
		maxLifetimeSeconds,
		...(admin ? { admin } : {}),
	});
}

export function createWorkerPool(config: ServerConfig, rootLogger: Logger): Promise<WorkerPool> {
	return WorkerPool.create(
		{
			numWorkers: config.mediasoup.numWorkers ?? availableParallelism(),
			logLevel: config.mediasoup.logLevel,
			logTags: config.mediasoup.logTags,
			rtcMinPort: config.mediasoup.rtcMinPort,
			rtcMaxPort: config.mediasoup.rtcMaxPort,
			respawnDelayMs: config.mediasoup.workerRespawnDelayMs,
			webRtcServer: {
				listenIp: config.webrtc.listenIp,
				port: config.webrtc.port,
				...(config.webrtc.announcedIp ? { announcedIp: config.webrtc.announcedIp } : {}),
				listenInfos: config.webrtc.listenInfos,
				udpPort: config.webrtc.udpPort,
				tcpPort: config.webrtc.tcpPort,
			},
		},
		moduleLogger(rootLogger, 'media.worker-pool'),
	);
}

export function createRoomRegistry(config: ServerConfig, deps: { pool: WorkerPool; placement: RoomPlacement; admissions: RoomAdmissions }, rootLogger: Logger): RoomRegistry {
	return new RoomRegistry(
		deps,
		{
			media: { mediaCodecs: ROUTER_MEDIA_CODECS, consumerBudgetPerRouter: config.rooms.consumerBudgetPerRouter },
			peerMedia: {
				maxProducers: config.rooms.maxProducersPerPeer,
				maxIncomingBitrate: config.webrtc.maxIncomingBitrate,
				initialAvailableOutgoingBitrate: config.webrtc.initialAvailableOutgoingBitrate,
			},
			maxPeers: config.rooms.maxPeersPerRoom,
			maxRooms: config.rooms.maxRoomsPerNode,
			peerGracePeriodMs: config.rooms.peerGracePeriodMs,
			emptyRoomTimeoutMs: config.rooms.emptyRoomTimeoutMs,
		},
		moduleLogger(rootLogger, 'rooms'),
	);
}

/** Recording needs ffmpeg; without it the node still serves calls and says why it cannot record. */
export function createRecordingService(config: ServerConfig, rootLogger: Logger, cluster?: RecordingCluster): RecordingService | null {
	const logger = moduleLogger(rootLogger, 'recording');
	let ffmpeg: string;
	try {
		ffmpeg = resolveFfmpeg(config.recording.ffmpegPath);
	} catch (error) {
		logger.warn({ err: error }, 'recording disabled');
		return null;
	}
	const key = SigningKey.loadOrCreate(signingKeyFile(config));
	const dir = path.resolve(config.recording.dir ?? path.join(config.dataDir, 'recordings'));
	logger.info({ dir, ffmpeg, keyId: key.keyId }, 'recording enabled');
	return new RecordingService({
		dir,
		segmentSeconds: config.recording.segmentSeconds,
		ffmpeg,
		ffprobe: resolveFfprobe(ffmpeg),
		portMin: config.recording.portMin,
		portMax: config.recording.portMax,
		requireConsentDefault: config.recording.requireConsent,
		minFreeBytes: config.recording.minFreeMb * 1024 * 1024,
		maxFfmpeg: config.recording.maxFfmpeg,
		compose: config.recording.compose,
		key,
		...(cluster ? { cluster } : {}),
		logger,
	});
}

export function createIngestService(config: ServerConfig, rootLogger: Logger): IngestService {
	let ffmpeg: string | null = null;
	try {
		ffmpeg = resolveFfmpeg(config.recording.ffmpegPath);
	} catch {
		// Push ingest still works; pulling sources says why it cannot.
	}
	// Without its own settings, ingest listens where WebRTC does (its first listen address).
	const webrtcAddress = config.webrtc.listenInfos?.[0] ?? { ip: config.webrtc.listenIp, announcedIp: config.webrtc.announcedIp };
	const announcedIp = config.ingest.announcedIp ?? webrtcAddress.announcedIp;
	return new IngestService({
		ffmpeg,
		ffprobe: ffmpeg ? resolveFfprobe(ffmpeg) : null,
		...(config.ingest.fileRoot ? { fileRoot: path.resolve(config.ingest.fileRoot) } : {}),
		maxSourcesPerRoom: config.ingest.maxSourcesPerRoom,
		allowedHosts: config.ingest.allowedHosts,
		listenIp: config.ingest.listenIp ?? webrtcAddress.ip,
		...(announcedIp ? { announcedIp } : {}),
		logger: moduleLogger(rootLogger, 'ingest'),
	});
}

/** TURN servers, with credentials minted for each transport (never logged); undefined without TURN_URLS. */
export function iceServerSource(config: ServerConfig, logger: Logger): (() => IceServer[]) | undefined {
	const { urls, secret, ttlSeconds } = config.turn;
	if (urls.length === 0) return undefined;
	const turn = new TurnCredentials({ urls, ttlSeconds, ...(secret ? { secret } : {}) });
	logger.info({ iceServerUrls: urls, ttlSeconds }, 'ICE servers handed to clients');
	return () => turn.iceServers();
}
