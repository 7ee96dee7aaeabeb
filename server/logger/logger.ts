import { pino, type Logger, type LevelWithSilent } from 'pino';
import { requestBindings } from '../context/index.js';
import { roomRef } from './ids.js';

export type { Logger } from 'pino';

/**
 * Paths pino replaces with "[redacted]" wherever they appear in a log object:
 * join tokens, authorization headers, display names and whole token claims
 * must never reach logs. (pino's `*` matches one level; the deeper paths
 * cover errors and requests that carry them one level further down.)
 */
export const REDACTED_PATHS = [
	'token',
	'*.token',
	'*.*.token',
	'authorization',
	'*.authorization',
	'req.headers.authorization',
	'req.headers.cookie',
	'headers.authorization',
	'headers.cookie',
	'displayName',
	'*.displayName',
	'*.*.displayName',
	'claims',
	'*.claims',
	'auth',
	'*.auth',
	'secret',
	'*.secret',
	'jwtSecret',
	'*.jwtSecret',
	'credential',
	'*.credential',
	'*.*.credential',
	'password',
	'*.password',
];

/** What `configureLogging` takes: `ServerConfig['log']` fits. */
export interface LogSettings {
	/** Root level. */
	level: LevelWithSilent;
	/** Level per module (prefix match on dot boundaries: `media` covers `media.worker-pool`). */
	levels?: Readonly<Record<string, LevelWithSilent>>;
	/** Key for room references in logs and metrics (see ids.ts). Default: none (plain SHA-256). */
	idKey?: string;
}

export interface RootLoggerOptions {
	level: LevelWithSilent;
	/** Where to write; default stdout. Tests pass a stream to inspect lines. */
	destination?: NodeJS.WritableStream;
}

/** Settings registered per root logger; module loggers consult them. */
const settingsByRoot = new WeakMap<Logger, LogSettings>();

/**
 * The process's root logger; modules take children of it via `moduleLogger`.
 * Every line logged while a signaling request is handled carries its `reqId`.
 */
export function createRootLogger(options: RootLoggerOptions): Logger {
	return pino(
		{
			level: options.level,
			base: { pid: process.pid },
			redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
			timestamp: pino.stdTimeFunctions.isoTime,
			mixin: requestBindings,
		},
		options.destination ?? pino.destination({ dest: 1, sync: true }),
	);
}

/**
 * Tells module loggers made from `root` their levels and how to reference
 * rooms. Call before the first `moduleLogger(root, …)`; SfuServer does.
 */
export function configureLogging(root: Logger, settings: LogSettings): void {
	settingsByRoot.set(root, settings);
}

/** The configured level of a module: the longest matching prefix, else the root's. */
export function levelFor(module: string, settings: Pick<LogSettings, 'level' | 'levels'>): LevelWithSilent {
	let best: string | null = null;
	for (const prefix of Object.keys(settings.levels ?? {})) {
		const matches = module === prefix || module.startsWith(`${prefix}.`);
		if (matches && (best === null || prefix.length > best.length)) best = prefix;
	}
	return best === null ? settings.level : settings.levels![best]!;
}

/**
 * One child logger per module, tagged with the module's name, at the
 * module's configured level. Room ids (portal-chosen, possibly meaningful)
 * become opaque references in this logger and every child of it.
 */
export function moduleLogger(root: Logger, module: string): Logger {
	const settings = settingsByRoot.get(root);
	const idKey = settings?.idKey;
	return root.child(
		{ module },
		{
			...(settings ? { level: levelFor(module, settings) } : {}),
			serializers: { roomId: (id: unknown) => (typeof id === 'string' ? roomRef(id, idKey) : id) },
			redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
		},
	);
}
