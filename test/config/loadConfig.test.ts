import { expect } from 'chai';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { ConfigError, loadConfig } from '../../server/config/index.js';

function configError(env: Record<string, string>): ConfigError {
	try {
		loadConfig(env);
	} catch (error) {
		expect(error).to.be.instanceOf(ConfigError);
		return error as ConfigError;
	}
	throw new Error('expected a ConfigError');
}

describe('config: loadConfig', () => {
	let dir: string;
	before(() => {
		dir = mkdtempSync(path.join(tmpdir(), 'sfu-config-'));
	});
	after(() => rmSync(dir, { recursive: true, force: true }));

	const SECRET = { JWT_SECRET: 'test-secret-at-least-16-chars' };

	it('requires a JWT secret or public key unless in demo mode', () => {
		const error = configError({});
		expect(error.setting).to.equal('JWT_SECRET');
		expect(loadConfig({ DEMO: '1' }).demo).to.equal(true);
		expect(configError({ DEMO: 'maybe' }).setting).to.equal('DEMO');
		expect(configError({ JWT_SECRET: 'short' }).message).to.include('at least 16');
		expect(configError({ JWT_PUBLIC_KEY: 'not a key' }).setting).to.equal('JWT_PUBLIC_KEY');
	});

	it('starts from documented defaults with only a secret', () => {
		const config = loadConfig(SECRET);
		expect(config.http).to.deep.equal({ host: '0.0.0.0', port: 3000, requestTimeoutMs: 30_000, connectionTimeoutMs: 120_000, keepAliveTimeoutMs: 72_000 });
		expect(config.mediasoup.numWorkers).to.equal(undefined);
		expect(config.mediasoup.logLevel).to.equal('warn');
		expect(config.mediasoup.rtcMinPort).to.equal(40000);
		expect(config.mediasoup.rtcMaxPort).to.equal(49999);
		expect(config.log.level).to.equal('info');
	});

	it('reads environment variables into the typed object', () => {
		const config = loadConfig({ ...SECRET, PORT: '4000', MEDIASOUP_NUM_WORKERS: '3', MEDIASOUP_LOG_TAGS: 'ice, dtls', LOG_LEVEL: 'debug' });
		expect(config.http.port).to.equal(4000);
		expect(config.mediasoup.numWorkers).to.equal(3);
		expect(config.mediasoup.logTags).to.deep.equal(['ice', 'dtls']);
		expect(config.log.level).to.equal('debug');
	});

	it('treats empty variables as unset', () => {
		expect(loadConfig({ ...SECRET, PORT: '', LOG_LEVEL: '  ' }).http.port).to.equal(3000);
	});

	it('names the variable of a non-numeric value', () => {
		const error = configError({ PORT: 'abc' });
		expect(error.setting).to.equal('PORT');
		expect(error.message).to.equal('PORT: must be an integer (got "abc")');
	});

	it('names the variable of an out-of-range value', () => {
		const error = configError({ PORT: '70000' });
		expect(error.setting).to.equal('PORT');
		expect(error.message).to.include('at most 65535');
		expect(configError({ MEDIASOUP_NUM_WORKERS: '0' }).setting).to.equal('MEDIASOUP_NUM_WORKERS');
	});

	it('names the variable of a value outside an enumeration', () => {
		const error = configError({ MEDIASOUP_LOG_LEVEL: 'loud' });
		expect(error.setting).to.equal('MEDIASOUP_LOG_LEVEL');
		expect(error.message).to.include('"debug"');
	});

	it('refuses an inverted RTC port range', () => {
		expect(configError({ RTC_MIN_PORT: '50000', RTC_MAX_PORT: '40000' }).setting).to.equal('RTC_MIN_PORT');
	});

	it('reads a JSON file, with the environment taking precedence', () => {
		const file = path.join(dir, 'ok.json');
		writeFileSync(file, JSON.stringify({ http: { port: 5000, host: '127.0.0.1' }, mediasoup: { numWorkers: 2 } }));
		const config = loadConfig({ ...SECRET, CONFIG_FILE: file, PORT: '6000' });
		expect(config.http).to.deep.include({ host: '127.0.0.1', port: 6000 });
		expect(config.mediasoup.numWorkers).to.equal(2);
	});

	it('names the file and key of an unknown or invalid file setting', () => {
		const file = path.join(dir, 'bad.json');
		writeFileSync(file, JSON.stringify({ http: { port: 'x' } }));
		expect(configError({ CONFIG_FILE: file }).setting).to.equal(`${file}: http.port`);
		writeFileSync(file, JSON.stringify({ htttp: {} }));
		expect(configError({ CONFIG_FILE: file }).message).to.include('unknown setting htttp');
	});

	it('refuses a missing or malformed file', () => {
		expect(configError({ CONFIG_FILE: path.join(dir, 'missing.json') }).message).to.include('cannot read');
		const file = path.join(dir, 'garbage.json');
		writeFileSync(file, '{ not json');
		expect(configError({ CONFIG_FILE: file }).message).to.include('not valid JSON');
	});
});
