export { createRootLogger, moduleLogger, REDACTED_PATHS } from './logger.js';
export type { Logger, RootLoggerOptions } from './logger.js';
