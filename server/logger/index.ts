export { configureLogging, createRootLogger, levelFor, moduleLogger, REDACTED_PATHS } from './logger.js';
export type { Logger, LogSettings, RootLoggerOptions } from './logger.js';
export { roomRef } from './ids.js';
