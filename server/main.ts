/**
 * Process entry point: load configuration, start one SFU node, and shut it
 * down cleanly on SIGINT/SIGTERM.
 *
 * Exit codes: 0 clean shutdown, 1 runtime failure, 2 invalid configuration.
 */
import { ConfigError, loadConfig, type ServerConfig } from './config/index.js';
import { createRootLogger, type Logger } from './logger/index.js';

let config: ServerConfig;
try {
	config = loadConfig(process.env);
} catch (error) {
	if (error instanceof ConfigError) {
		process.stderr.write(`Invalid configuration: ${error.message}\n`);
		process.exit(2);
	}
	throw error;
}

// mediasoup reads MEDIASOUP_WORKER_BIN once, when first imported, so the
// configured binary must be in place before the server module loads it.
if (config.mediasoup.workerBin) process.env['MEDIASOUP_WORKER_BIN'] = config.mediasoup.workerBin;

const logger: Logger = createRootLogger({ level: config.log.level });
const { SfuServer } = await import('./SfuServer.js');
type SfuServerInstance = Awaited<ReturnType<typeof SfuServer.start>>;

let server: SfuServerInstance | null = null;
let stopping = false;

async function shutdown(reason: string, exitCode: number): Promise<void> {
	if (stopping) return;
	stopping = true;
	logger.info({ reason }, 'shutting down');
	// A node of a spanning cluster lets its clients move to other nodes first (SIGTERM: a rolling update).
	const drains = server?.drains === true && reason === 'SIGTERM';
	const limitMs = config.shutdownTimeoutMs + (drains ? config.drainTimeoutMs : 0);
	const timer = setTimeout(() => {
		logger.error({ timeoutMs: limitMs }, 'shutdown timed out; exiting');
		process.exit(1);
	}, limitMs);
	timer.unref();
	try {
		if (drains) await server?.drain();
		await server?.close();
	} catch (error) {
		logger.error({ err: error }, 'error during shutdown');
		exitCode = 1;
	}
	logger.flush();
	process.exit(exitCode);
}

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
	process.on(signal, () => {
		if (stopping) {
			logger.warn({ signal }, 'second signal: exiting now');
			process.exit(1);
		}
		void shutdown(signal, 0);
	});
}

process.on('uncaughtException', (error) => {
	logger.fatal({ err: error }, 'uncaught exception');
	void shutdown('uncaughtException', 1);
});
process.on('unhandledRejection', (error) => {
	logger.fatal({ err: error }, 'unhandled rejection');
	void shutdown('unhandledRejection', 1);
});

try {
	server = await SfuServer.start(config, logger);
	logger.info({ port: server.port }, 'server ready');
	if (stopping) await server.close();
} catch (error) {
	logger.fatal({ err: error }, 'server failed to start');
	await shutdown('startup failure', 1);
}
