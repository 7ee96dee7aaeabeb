#!/usr/bin/env node
// Bundles the client SDK for browsers:
//   dist/telehealth-sdk.esm.js   ESM  (import { connect } from '/sdk/telehealth-sdk.esm.js')
//   dist/telehealth-sdk.iife.js  IIFE (global `TelehealthSDK`, for a plain <script> tag)
// Minified, with source maps. Skips the work when every output is newer than
// every input (it runs in `npm test` setup); `--force` rebuilds anyway.
// Fails when server-only code (zod, the mediasoup server package, server/**)
// reaches the bundle: the SDK imports only protocol *types* from the server.
import { build } from 'esbuild';
import { existsSync, readFileSync, readdirSync, statSync, writeFileSync, mkdirSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';

const here = dirname(fileURLToPath(import.meta.url));
const repo = resolve(here, '..');
const dist = join(here, 'dist');
const metaFile = join(dist, 'meta.json');
const force = process.argv.includes('--force');

const OUTPUTS = [
	{ format: 'esm', file: join(dist, 'telehealth-sdk.esm.js') },
	{ format: 'iife', file: join(dist, 'telehealth-sdk.iife.js') },
];

/** Paths that must never be bundled: the server's validation and media stack. */
const FORBIDDEN = [
	{ pattern: /(^|\/)node_modules\/zod\//, why: 'zod (import protocol types with `import type`)' },
	{ pattern: /(^|\/)node_modules\/mediasoup\//, why: 'the mediasoup server package' },
	{ pattern: /(^|\/)server\//, why: 'server code' },
];

function mtime(path) {
	try {
		return statSync(path).mtimeMs;
	} catch {
		return undefined;
	}
}

function listFiles(dir) {
	if (!existsSync(dir)) return [];
	return readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? listFiles(join(dir, e.name)) : [join(dir, e.name)]));
}

/** Every input of the last build (from its metafile) plus anything new under src/. */
function inputs() {
	const files = new Set([fileURLToPath(import.meta.url), join(repo, 'package-lock.json'), join(here, 'tsconfig.json'), ...listFiles(join(here, 'src'))]);
	if (existsSync(metaFile)) {
		const meta = JSON.parse(readFileSync(metaFile, 'utf8'));
		for (const input of Object.keys(meta.inputs ?? {})) files.add(resolve(here, input));
	}
	return [...files];
}

function upToDate() {
	if (force || !existsSync(metaFile)) return false;
	const outputTimes = [...OUTPUTS.flatMap((o) => [o.file, `${o.file}.map`]), metaFile].map(mtime);
	if (outputTimes.some((t) => t === undefined)) return false;
	const oldestOutput = Math.min(...outputTimes);
	return inputs().every((file) => {
		const t = mtime(file);
		return t !== undefined && t < oldestOutput;
	});
}

function report(label, file) {
	const code = readFileSync(file);
	const kib = (n) => `${(n / 1024).toFixed(1)} KiB`;
	console.log(`[sdk] ${label.padEnd(5)} ${relative(repo, file)}: ${kib(code.length)} minified, ${kib(gzipSync(code, { level: 9 }).length)} gzipped`);
}

if (upToDate()) {
	console.log('[sdk] bundles are up to date (use --force to rebuild)');
	for (const o of OUTPUTS) report(o.format, o.file);
	process.exit(0);
}

mkdirSync(dist, { recursive: true });
const common = {
	absWorkingDir: here,
	entryPoints: ['src/index.ts'],
	bundle: true,
	minify: true,
	sourcemap: true,
	platform: 'browser',
	target: ['chrome100', 'firefox100', 'safari15'],
	tsconfig: join(here, 'tsconfig.json'),
	metafile: true,
	legalComments: 'none',
	logLevel: 'warning',
	define: { 'process.env.NODE_ENV': '"production"' },
};

const metas = [];
for (const o of OUTPUTS) {
	const result = await build({
		...common,
		format: o.format,
		outfile: o.file,
		...(o.format === 'iife' ? { globalName: 'TelehealthSDK' } : {}),
	});
	metas.push(result.metafile);
}

const bundled = new Set(metas.flatMap((m) => Object.keys(m.inputs)));
const violations = [...bundled].flatMap((input) => FORBIDDEN.filter((f) => f.pattern.test(input)).map((f) => `${input}: ${f.why}`));
if (violations.length > 0) {
	console.error('[sdk] the bundle contains server-only code:\n  ' + violations.join('\n  '));
	process.exit(1);
}

writeFileSync(metaFile, JSON.stringify(metas[0]));
for (const o of OUTPUTS) report(o.format, o.file);
