import { pino, type Logger, type LevelWithSilent } from 'pino';

export type { Logger } from 'pino';

/**
 * Paths pino replaces with "[redacted]" wherever they appear in a log object:
 * join tokens, authorization headers and display names must never reach logs.
 */
export const REDACTED_PATHS = [
	'token',
	'*.token',
	'authorization',
	'*.authorization',
	'req.headers.authorization',
	'req.headers.cookie',
	'displayName',
	'*.displayName',
	'secret',
	'*.secret',
];

export interface RootLoggerOptions {
	level: LevelWithSilent;
	/** Where to write; default stdout. Tests pass a stream to inspect lines. */
	destination?: NodeJS.WritableStream;
}

/** The process's root logger; modules take children of it via `moduleLogger`. */
export function createRootLogger(options: RootLoggerOptions): Logger {
	return pino(
		{
			level: options.level,
			base: { pid: process.pid },
			redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
			timestamp: pino.stdTimeFunctions.isoTime,
		},
		options.destination ?? pino.destination({ dest: 1, sync: true }),
	);
}

/** One child logger per module, tagged with the module's name. */
export function moduleLogger(root: Logger, module: string): Logger {
	return root.child({ module });
}
