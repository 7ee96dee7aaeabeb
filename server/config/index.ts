export { loadConfig } from './load.js';
export { ConfigError } from './ConfigError.js';
export { ENV_SETTINGS, CONFIG_FILE_ENV } from './env.js';
export { ServerConfigSchema, LOG_LEVELS, WORKER_LOG_LEVELS } from './schema.js';
export type { ServerConfig, ServerConfigInput } from './schema.js';
