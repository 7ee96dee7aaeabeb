#!/usr/bin/env node
// Bundles the client SDK for browsers:
//   dist/telehealth-sdk.esm.js   ESM  (import { connect } from '/sdk/telehealth-sdk.esm.js')
//   dist/telehealth-sdk.iife.js  IIFE (global `TelehealthSDK`, for a plain <script> tag)
//   dist/types/*.d.ts            declarations (tsc, @internal stripped), with
//   dist/telehealth-sdk.esm.d.ts and dist/telehealth-sdk.iife.d.ts next to the bundles
// Minified, with source maps. Skips the work when every output is newer than
// every input (it runs in `npm test` setup); `--force` rebuilds anyway.
// Fails when server-only code (zod, the mediasoup server package, server/**)
// reaches the bundle, or when the declarations reach outside dist/types (a
// portal's TypeScript must need nothing but these files).
import { build } from 'esbuild';
import { execFileSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { existsSync, readFileSync, readdirSync, renameSync, rmSync, statSync, writeFileSync, mkdirSync } from 'node:fs';
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
const TYPES = join(dist, 'types');
const TYPE_OUTPUTS = [join(TYPES, 'index.d.ts'), join(dist, 'telehealth-sdk.esm.d.ts'), join(dist, 'telehealth-sdk.iife.d.ts')];

/**
 * mediasoup-client modules a browser bundle never runs: the React Native
 * handler (chosen only inside React Native) and the test doubles its index
 * re-exports. Stubbed out: about 40 KiB less to download on a weak link.
 */
const STUBS = [
	{ filter: /handlers[\\/]ReactNative106(\.js)?$/, contents: 'exports.ReactNative106 = { createFactory() { throw new Error("React Native is not supported by the browser bundle"); } };' },
	{ filter: /handlers[\\/]FakeHandler(\.js)?$/, contents: 'exports.FakeHandler = undefined;' },
	{ filter: /test[\\/]fakeParameters(\.js)?$/, contents: 'module.exports = {};' },
];
const stubPlugin = {
	name: 'mediasoup-client-stubs',
	setup(b) {
		for (const [i, stub] of STUBS.entries()) {
			b.onResolve({ filter: stub.filter }, (args) => (args.importer.includes('mediasoup-client') ? { path: `stub-${i}`, namespace: 'sdk-stub' } : undefined));
		}
		b.onLoad({ filter: /.*/, namespace: 'sdk-stub' }, (args) => ({ contents: STUBS[Number(args.path.slice(5))].contents, loader: 'js' }));
	},
};

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
	const outputTimes = [...OUTPUTS.flatMap((o) => [o.file, `${o.file}.map`]), ...TYPE_OUTPUTS, metaFile].map(mtime);
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
	plugins: [stubPlugin],
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

buildTypes();
writeFileSync(metaFile, JSON.stringify(metas[0]));
for (const o of OUTPUTS) report(o.format, o.file);
console.log(`[sdk] types client-sdk/dist/types: ${readdirSync(TYPES).length} declaration files`);

/**
 * Declarations with tsc (`stripInternal`: what is marked @internal is not
 * API), moved to dist/types, pruned to what index.d.ts reaches, and checked
 * to import nothing from outside: not the server, not zod, not mediasoup-client.
 */
function buildTypes() {
	const tmp = join(dist, '.types-tmp');
	rmSync(tmp, { recursive: true, force: true });
	const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
	try {
		execFileSync(process.execPath, [tsc, '-p', join(here, 'tsconfig.types.json')], { stdio: 'inherit' });
	} catch {
		console.error('[sdk] tsc could not emit the declarations');
		process.exit(1);
	}
	rmSync(TYPES, { recursive: true, force: true });
	renameSync(join(tmp, 'client-sdk', 'src'), TYPES);
	rmSync(tmp, { recursive: true, force: true });
	const reachable = new Set();
	const problems = [];
	const visit = (file) => {
		if (reachable.has(file)) return;
		reachable.add(file);
		// Comments may quote imports (usage examples): look at code only.
		const text = readFileSync(file, 'utf8').replace(/\/\*[\s\S]*?\*\//g, '').replace(/^\s*\/\/.*$/gm, '');
		for (const [, spec] of text.matchAll(/(?:from|import)\s*\(?\s*['"]([^'"]+)['"]/g)) {
			if (!spec.startsWith('.')) {
				problems.push(`${relative(dist, file)} imports '${spec}'`);
				continue;
			}
			const target = resolve(dirname(file), spec.replace(/\.js$/, '.d.ts'));
			if (!target.startsWith(TYPES) || !existsSync(target)) problems.push(`${relative(dist, file)} imports '${spec}' (outside dist/types)`);
			else visit(target);
		}
	};
	visit(join(TYPES, 'index.d.ts'));
	if (problems.length > 0) {
		console.error('[sdk] the declarations are not self-contained:\n  ' + problems.join('\n  '));
		process.exit(1);
	}
	for (const file of listFiles(TYPES)) if (!reachable.has(file)) rmSync(file);
	writeFileSync(join(dist, 'telehealth-sdk.esm.d.ts'), "// Types of telehealth-sdk.esm.js.\nexport * from './types/index.js';\n");
	writeFileSync(
		join(dist, 'telehealth-sdk.iife.d.ts'),
		"// Types of telehealth-sdk.iife.js: the global `TelehealthSDK`.\nimport type * as SDK from './types/index.js';\ndeclare global {\n\tconst TelehealthSDK: typeof SDK;\n\tinterface Window {\n\t\tTelehealthSDK: typeof SDK;\n\t}\n}\nexport {};\n",
	);
}
