/**
 * The environment variables the server understands, and where each lands in
 * the configuration object. This table is the only place that names them.
 */
export interface EnvSetting {
	/** Path in the configuration object, e.g. ['http', 'port']. */
	path: readonly string[];
	/** How the string from the environment becomes a config value. */
	type: 'string' | 'integer' | 'list' | 'boolean' | 'file';
	/** One line for README/`--help`. */
	description: string;
}

export const ENV_SETTINGS: Readonly<Record<string, EnvSetting>> = {
	HTTP_HOST: { path: ['http', 'host'], type: 'string', description: 'listen address of HTTP and signaling' },
	PORT: { path: ['http', 'port'], type: 'integer', description: 'listen port of HTTP and signaling (0 = any free port)' },
	MEDIASOUP_NUM_WORKERS: { path: ['mediasoup', 'numWorkers'], type: 'integer', description: 'mediasoup workers (default: CPU cores)' },
	MEDIASOUP_WORKER_BIN: { path: ['mediasoup', 'workerBin'], type: 'string', description: 'mediasoup-worker binary (default: the one built by npm run build:worker)' },
	MEDIASOUP_LOG_LEVEL: { path: ['mediasoup', 'logLevel'], type: 'string', description: 'worker log level: debug | warn | error | none' },
	MEDIASOUP_LOG_TAGS: { path: ['mediasoup', 'logTags'], type: 'list', description: 'comma-separated worker log tags' },
	RTC_MIN_PORT: { path: ['mediasoup', 'rtcMinPort'], type: 'integer', description: 'lowest RTC port' },
	RTC_MAX_PORT: { path: ['mediasoup', 'rtcMaxPort'], type: 'integer', description: 'highest RTC port' },
	WORKER_RESPAWN_DELAY_MS: { path: ['mediasoup', 'workerRespawnDelayMs'], type: 'integer', description: 'first delay before a dead worker is replaced' },
	WEBRTC_LISTEN_IP: { path: ['webrtc', 'listenIp'], type: 'string', description: 'listen address of the WebRtcServers' },
	WEBRTC_ANNOUNCED_IP: { path: ['webrtc', 'announcedIp'], type: 'string', description: 'address announced in ICE candidates' },
	WEBRTC_PORT: { path: ['webrtc', 'port'], type: 'integer', description: 'UDP/TCP port of worker 0 (worker N: +N; 0 = from the RTC range)' },
	WEBRTC_LISTEN_INFOS: { path: ['webrtc', 'listenInfos'], type: 'list', description: 'comma-separated ip[/announcedIp] listen addresses (replace WEBRTC_LISTEN_IP/ANNOUNCED_IP)' },
	WEBRTC_UDP_PORT: { path: ['webrtc', 'udpPort'], type: 'integer', description: 'UDP port of worker 0 when not WEBRTC_PORT (worker N: +N)' },
	WEBRTC_TCP_PORT: { path: ['webrtc', 'tcpPort'], type: 'integer', description: 'TCP port of worker 0 when not WEBRTC_PORT (worker N: +N), e.g. 443' },
	TURN_URLS: { path: ['turn', 'urls'], type: 'list', description: 'comma-separated turn:/turns:/stun: URLs handed to clients' },
	TURN_SECRET: { path: ['turn', 'secret'], type: 'string', description: 'shared secret with the TURN server (static-auth-secret)' },
	TURN_TTL_SECONDS: { path: ['turn', 'ttlSeconds'], type: 'integer', description: 'lifetime of minted TURN credentials' },
	WEBRTC_MAX_INCOMING_BITRATE: { path: ['webrtc', 'maxIncomingBitrate'], type: 'integer', description: 'per-client send cap, bits/s' },
	JWT_SECRET: { path: ['auth', 'jwtSecret'], type: 'string', description: 'HS256 secret shared with portals' },
	JWT_PUBLIC_KEY: { path: ['auth', 'jwtPublicKey'], type: 'string', description: 'PEM public key for RS256/EdDSA tokens' },
	JWT_PUBLIC_KEY_FILE: { path: ['auth', 'jwtPublicKey'], type: 'file', description: 'file holding the PEM public key' },
	DEMO: { path: ['demo'], type: 'boolean', description: 'demo mode: dev tokens at /api/dev/token (never in production)' },
	ROOM_WAITING_ROOM: { path: ['rooms', 'waitingRoom'], type: 'boolean', description: 'patients wait for admission by default' },
	PEER_GRACE_PERIOD_MS: { path: ['rooms', 'peerGracePeriodMs'], type: 'integer', description: 'how long a dropped peer is kept for resume' },
	EMPTY_ROOM_TIMEOUT_MS: { path: ['rooms', 'emptyRoomTimeoutMs'], type: 'integer', description: 'how long an empty room lives' },
	ROUTER_CONSUMER_BUDGET: { path: ['rooms', 'consumerBudgetPerRouter'], type: 'integer', description: 'consumers per router before a room spreads to another worker' },
	MAX_PEERS_PER_ROOM: { path: ['rooms', 'maxPeersPerRoom'], type: 'integer', description: 'peers per room' },
	MAX_PRODUCERS_PER_PEER: { path: ['rooms', 'maxProducersPerPeer'], type: 'integer', description: 'producers per peer' },
	SIGNALING_ENGINE: { path: ['signaling', 'engine'], type: 'string', description: 'node | uws' },
	UWS_PORT: { path: ['signaling', 'uwsPort'], type: 'integer', description: 'port of the uWebSockets.js engine' },
	SIGNALING_MAX_PAYLOAD_BYTES: { path: ['signaling', 'maxPayloadBytes'], type: 'integer', description: 'largest signaling message' },
	SIGNALING_REQUESTS_PER_SECOND: { path: ['signaling', 'requestsPerSecond'], type: 'integer', description: 'per-socket request rate' },
	CORS_ORIGINS: { path: ['signaling', 'corsOrigins'], type: 'list', description: 'comma-separated allowed browser origins (empty: any)' },
	NODE_ID: { path: ['cluster', 'nodeId'], type: 'string', description: 'node id in the cluster, audit trail and metrics (default: host name)' },
	REDIS_URL: { path: ['cluster', 'redisUrl'], type: 'string', description: 'Redis for cluster state (unset: single node)' },
	CLUSTER_PUBLIC_URL: { path: ['cluster', 'publicUrl'], type: 'string', description: 'how clients reach this node' },
	CLUSTER_HEARTBEAT_MS: { path: ['cluster', 'heartbeatMs'], type: 'integer', description: 'node heartbeat period' },
	CLUSTER_SECRET: { path: ['cluster', 'secret'], type: 'string', description: 'HMAC secret of node-to-node calls (required with REDIS_URL)' },
	CLUSTER_INTERNAL_URL: { path: ['cluster', 'internalUrl'], type: 'string', description: 'how other nodes reach this one (default: public URL)' },
	CLUSTER_ROOM_MODE: { path: ['cluster', 'roomMode'], type: 'string', description: 'span (rooms across nodes) | redirect (rooms on their origin node)' },
	CLUSTER_PIPE_IP: { path: ['cluster', 'pipeIp'], type: 'string', description: 'listen address of pipes to other nodes' },
	CLUSTER_PIPE_ANNOUNCED_IP: { path: ['cluster', 'pipeAnnouncedIp'], type: 'string', description: 'address other nodes send pipe media to' },
	NODE_MAX_PEERS: { path: ['cluster', 'maxPeers'], type: 'integer', description: 'peers before /readyz turns false' },
	DATA_DIR: { path: ['dataDir'], type: 'string', description: 'data folder (recordings, keys, audit)' },
	RECORDINGS_DIR: { path: ['recording', 'dir'], type: 'string', description: 'recordings folder (default <DATA_DIR>/recordings)' },
	RECORDING_SEGMENT_SECONDS: { path: ['recording', 'segmentSeconds'], type: 'integer', description: 'recording segment length' },
	FFMPEG_PATH: { path: ['recording', 'ffmpegPath'], type: 'string', description: 'ffmpeg binary' },
	RECORDING_PORT_MIN: { path: ['recording', 'portMin'], type: 'integer', description: 'lowest local UDP port for ffmpeg' },
	RECORDING_PORT_MAX: { path: ['recording', 'portMax'], type: 'integer', description: 'highest local UDP port for ffmpeg' },
	RECORDING_REQUIRE_CONSENT: { path: ['recording', 'requireConsent'], type: 'boolean', description: 'record only consenting participants by default' },
	RECORDING_MIN_FREE_MB: { path: ['recording', 'minFreeMb'], type: 'integer', description: 'free MiB the recordings disk keeps; below it recordings stop' },
	INGEST_FILE_ROOT: { path: ['ingest', 'fileRoot'], type: 'string', description: 'folder local files may be pulled from (unset: no file sources)' },
	MAX_INGEST_SOURCES_PER_ROOM: { path: ['ingest', 'maxSourcesPerRoom'], type: 'integer', description: 'pulled sources per room' },
	INGEST_LISTEN_IP: { path: ['ingest', 'listenIp'], type: 'string', description: 'listen address of push-ingest endpoints' },
	INGEST_ANNOUNCED_IP: { path: ['ingest', 'announcedIp'], type: 'string', description: 'address devices send to' },
	SIGNING_KEY_FILE: { path: ['signingKeyFile'], type: 'string', description: 'Ed25519 key signing manifests (created if missing)' },
	LOG_LEVEL: { path: ['log', 'level'], type: 'string', description: 'log level: fatal | error | warn | info | debug | trace | silent' },
	LOG_LEVELS: { path: ['log', 'levels'], type: 'list', description: 'level per module, e.g. rooms=debug,signaling=warn' },
	LOG_ID_KEY: { path: ['log', 'idKey'], type: 'string', description: 'key making room references in logs and metrics unguessable' },
	METRICS_ENABLED: { path: ['metrics', 'enabled'], type: 'boolean', description: 'serve Prometheus metrics at /metrics' },
	METRICS_PORT: { path: ['metrics', 'port'], type: 'integer', description: 'serve /metrics on this separate admin port instead' },
	METRICS_HOST: { path: ['metrics', 'host'], type: 'string', description: 'listen address of the metrics port' },
	METRICS_STATS_INTERVAL_MS: { path: ['metrics', 'statsIntervalMs'], type: 'integer', description: 'mediasoup stats sampling interval (0: off)' },
	METRICS_STATS_MAX_OBJECTS: { path: ['metrics', 'statsMaxObjects'], type: 'integer', description: 'most mediasoup objects sampled per interval' },
	METRICS_ROOM_LABELS: { path: ['metrics', 'roomLabels'], type: 'boolean', description: 'opt in to per-room metrics with an opaque room label' },
	AUDIT_ENABLED: { path: ['audit', 'enabled'], type: 'boolean', description: 'keep the tamper-evident audit trail' },
	AUDIT_DIR: { path: ['audit', 'dir'], type: 'string', description: 'root of the audit trails, one folder per node (default <DATA_DIR>/audit)' },
	AUDIT_MAX_FILE_MB: { path: ['audit', 'maxFileMb'], type: 'integer', description: 'audit file size before rotation, MiB' },
	AUDIT_CHECKPOINT_ENTRIES: { path: ['audit', 'checkpointEntries'], type: 'integer', description: 'entries between signed audit checkpoints' },
	AUDIT_CHECKPOINT_INTERVAL_MS: { path: ['audit', 'checkpointIntervalMs'], type: 'integer', description: 'longest wait before unsigned audit entries are signed' },
	RECORDING_RETENTION_DAYS: { path: ['retention', 'recordingDays'], type: 'integer', description: 'days a stopped recording is kept (0 = forever; legal hold always keeps)' },
	AUDIT_RETENTION_DAYS: { path: ['retention', 'auditDays'], type: 'integer', description: 'days audit files are kept after their last entry (0 = forever)' },
	RETENTION_INTERVAL_MS: { path: ['retention', 'intervalMs'], type: 'integer', description: 'how often the retention job runs' },
	SHUTDOWN_TIMEOUT_MS: { path: ['shutdownTimeoutMs'], type: 'integer', description: 'upper bound of a graceful shutdown' },
};

/** The environment variable naming the optional JSON configuration file. */
export const CONFIG_FILE_ENV = 'CONFIG_FILE';
