/**
 * A configuration value that cannot be used. `setting` names what the
 * operator must fix: an environment variable, or a key of the config file.
 */
export class ConfigError extends Error {
	readonly setting: string;

	constructor(setting: string, message: string) {
		super(`${setting}: ${message}`);
		this.name = 'ConfigError';
		this.setting = setting;
	}
}
