import { createPublicKey } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { ConfigError } from './ConfigError.js';
import { CONFIG_FILE_ENV, ENV_SETTINGS, type EnvSetting } from './env.js';
import { ServerConfigSchema, type ServerConfig } from './schema.js';

type Raw = Record<string, unknown>;

/**
 * Builds the server configuration from an optional JSON file (named by
 * `CONFIG_FILE`) overlaid by environment variables, validated as a whole.
 * Throws a ConfigError that names the first offending setting.
 */
export function loadConfig(env: Readonly<Record<string, string | undefined>>): ServerConfig {
	const fileName = nonEmpty(env[CONFIG_FILE_ENV]);
	const raw: Raw = fileName ? readConfigFile(fileName) : {};
	// Remember which environment variable set each path, to name it in errors.
	const envByPath = new Map<string, string>();

	for (const [name, setting] of Object.entries(ENV_SETTINGS)) {
		const value = nonEmpty(env[name]);
		if (value === undefined) continue;
		setPath(raw, setting.path, parseEnvValue(name, setting.type, value));
		envByPath.set(setting.path.join('.'), name);
	}

	const result = ServerConfigSchema.safeParse(raw);
	if (result.success) {
		checkAuth(result.data, envByPath);
		checkTurn(result.data, envByPath);
		checkDemo(result.data, valueAt(raw, ['http', 'host']) !== undefined, envByPath);
		return result.data;
	}

	const issue = result.error.issues[0]!;
	const path = issue.path.map(String).join('.');
	// A list item's issue (`webrtc.listenInfos.0`) belongs to the list's variable.
	const fromEnv = [...envByPath].find(([envPath]) => path === envPath || path.startsWith(`${envPath}.`))?.[1];
	const setting = fromEnv ?? (fileName ? `${fileName}: ${path || '(root)'}` : path || '(root)');
	throw new ConfigError(setting, describeIssue(issue, valueAt(raw, issue.path)));
}

/** Cross-field rules the schema cannot name a single setting for. */
function checkAuth(config: ServerConfig, envByPath: Map<string, string>): void {
	const { jwtSecret, jwtPublicKey } = config.auth;
	if (!jwtSecret && !jwtPublicKey && !config.demo) {
		throw new ConfigError('JWT_SECRET', 'is required (or JWT_PUBLIC_KEY / JWT_PUBLIC_KEY_FILE) unless DEMO=1');
	}
	if (Boolean(config.http.tlsCert) !== Boolean(config.http.tlsKey)) {
		throw new ConfigError(config.http.tlsCert ? 'TLS_KEY_FILE' : 'TLS_CERT_FILE', 'TLS needs both TLS_CERT_FILE and TLS_KEY_FILE');
	}
	if (config.cluster.redisUrl && !config.cluster.secret) {
		throw new ConfigError('CLUSTER_SECRET', 'is required with REDIS_URL: node-to-node calls must be authenticated');
	}
	for (const path of ['jwtPublicKey', 'adminPublicKey'] as const) {
		const pem = config.auth[path];
		if (!pem) continue;
		try {
			const key = createPublicKey(pem);
			if (key.asymmetricKeyType !== 'rsa' && key.asymmetricKeyType !== 'ed25519') throw new Error('type');
		} catch {
			throw new ConfigError(envByPath.get(`auth.${path}`) ?? `auth.${path}`, 'must be an RSA or Ed25519 public key in PEM form');
		}
	}
	const { adminSecret, adminPublicKey } = config.auth;
	if (adminSecret && adminSecret === jwtSecret) {
		throw new ConfigError(envByPath.get('auth.adminSecret') ?? 'auth.adminSecret', 'must differ from JWT_SECRET: admin tokens need a key portals do not hold');
	}
	if (adminPublicKey && adminPublicKey.trim() === jwtPublicKey?.trim()) {
		throw new ConfigError(envByPath.get('auth.adminPublicKey') ?? 'auth.adminPublicKey', 'must differ from JWT_PUBLIC_KEY: admin tokens need a key portals do not hold');
	}
}

const LOOPBACK_HOSTS = /^(127(\.\d{1,3}){3}|::1|localhost)$/;

/**
 * Demo mode hands anyone who reaches it a host token: it listens on loopback
 * unless HTTP_HOST is set and DEMO_PUBLIC says so explicitly.
 */
function checkDemo(config: ServerConfig, hostSet: boolean, envByPath: Map<string, string>): void {
	if (!config.demo || config.demoPublic || LOOPBACK_HOSTS.test(config.http.host)) return;
	if (!hostSet) {
		config.http.host = '127.0.0.1';
		return;
	}
	throw new ConfigError(envByPath.get('http.host') ?? 'http.host', `demo mode listens on loopback only (got ${JSON.stringify(config.http.host)}); set DEMO_PUBLIC=1 to serve the demo on another address`);
}

/** TURN URLs are useless without the secret that mints their credentials. */
function checkTurn(config: ServerConfig, envByPath: Map<string, string>): void {
	if (config.turn.secret || !config.turn.urls.some((url) => /^turns?:/.test(url))) return;
	throw new ConfigError(envByPath.has('turn.urls') ? 'TURN_SECRET' : 'turn.secret', 'is required when TURN_URLS lists a turn: or turns: server');
}

function readConfigFile(fileName: string): Raw {
	let text: string;
	try {
		text = readFileSync(fileName, 'utf8');
	} catch (error) {
		throw new ConfigError(CONFIG_FILE_ENV, `cannot read ${fileName} (${(error as NodeJS.ErrnoException).code ?? 'error'})`);
	}
	let parsed: unknown;
	try {
		parsed = JSON.parse(text);
	} catch (error) {
		throw new ConfigError(CONFIG_FILE_ENV, `${fileName} is not valid JSON (${(error as Error).message})`);
	}
	if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
		throw new ConfigError(CONFIG_FILE_ENV, `${fileName} must hold a JSON object`);
	}
	return parsed as Raw;
}

function parseEnvValue(name: string, type: EnvSetting['type'], value: string): unknown {
	switch (type) {
		case 'string':
			// PEM keys passed through env often carry literal "\n" sequences.
			return value.includes('-----BEGIN') ? value.replace(/\\n/g, '\n') : value;
		case 'file':
			try {
				return readFileSync(value, 'utf8');
			} catch (error) {
				throw new ConfigError(name, `cannot read ${value} (${(error as NodeJS.ErrnoException).code ?? 'error'})`);
			}
		case 'boolean': {
			const normalized = value.trim().toLowerCase();
			if (['1', 'true', 'yes', 'on'].includes(normalized)) return true;
			if (['0', 'false', 'no', 'off'].includes(normalized)) return false;
			throw new ConfigError(name, `must be true or false (got ${JSON.stringify(value)})`);
		}
		case 'list':
			return value.split(',').map((item) => item.trim()).filter(Boolean);
		case 'integer':
			if (!/^-?\d+$/.test(value.trim())) {
				throw new ConfigError(name, `must be an integer (got ${JSON.stringify(value)})`);
			}
			return Number(value.trim());
	}
}

function describeIssue(issue: z.core.$ZodIssue, value: unknown): string {
	const got = value === undefined ? '' : ` (got ${JSON.stringify(value)})`;
	switch (issue.code) {
		case 'too_small':
			return `must be at least ${String(issue.minimum)}${got}`;
		case 'too_big':
			return `must be at most ${String(issue.maximum)}${got}`;
		case 'invalid_value':
			return `must be one of ${issue.values.map((v) => JSON.stringify(v)).join(', ')}${got}`;
		case 'unrecognized_keys':
			return `unknown setting${issue.keys.length > 1 ? 's' : ''} ${issue.keys.join(', ')}`;
		default:
			return `${issue.message}${got}`;
	}
}

function nonEmpty(value: string | undefined): string | undefined {
	return value === undefined || value.trim() === '' ? undefined : value;
}

function setPath(target: Raw, path: readonly string[], value: unknown): void {
	let node = target;
	for (const key of path.slice(0, -1)) {
		const next = node[key];
		if (typeof next !== 'object' || next === null || Array.isArray(next)) node[key] = {};
		node = node[key] as Raw;
	}
	node[path[path.length - 1]!] = value;
}

function valueAt(target: unknown, path: readonly PropertyKey[]): unknown {
	let node = target;
	for (const key of path) {
		if (typeof node !== 'object' || node === null) return undefined;
		node = (node as Record<PropertyKey, unknown>)[key];
	}
	return node;
}
