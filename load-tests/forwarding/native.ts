/**
 * Builds the benchmark's C tools (sender, sink, relay) with gcc into
 * ~/.cache/telehealth-sfu/bench/<hash>/, keyed by their sources, the compiler and
 * the flags: compiled once, reused until something changes. Writes to a temp name
 * and renames, so an interrupted build never leaves a broken binary behind.
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { homedir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const SOURCE_DIR = path.dirname(fileURLToPath(import.meta.url));
export const CACHE_ROOT = path.join(process.env['XDG_CACHE_HOME'] ?? path.join(homedir(), '.cache'), 'telehealth-sfu', 'bench');

const TOOLS = ['sender', 'sink', 'relay'] as const;
export type Tool = (typeof TOOLS)[number];
const FLAGS = ['-O2', '-std=gnu11', '-Wall', '-Wextra', '-Werror'];

export interface NativeTools {
	dir: string;
	bin: Record<Tool, string>;
}

/** Compiles what is stale; returns the cache directory (also used for the RTP dumps) and the binaries. */
export function buildNativeTools(log: (line: string) => void): NativeTools {
	let gcc: string;
	try {
		gcc = execFileSync('gcc', ['--version'], { encoding: 'utf8' }).split('\n')[0]!;
	} catch {
		throw new Error('gcc is needed to build the benchmark tools: apt-get install -y gcc libc6-dev');
	}
	const hash = createHash('sha256').update(gcc).update(FLAGS.join(' '));
	for (const tool of TOOLS) hash.update(tool).update(readFileSync(path.join(SOURCE_DIR, `${tool}.c`)));
	const dir = path.join(CACHE_ROOT, hash.digest('hex').slice(0, 16));
	mkdirSync(dir, { recursive: true });
	const bin = Object.fromEntries(TOOLS.map((tool) => [tool, path.join(dir, tool)])) as Record<Tool, string>;
	for (const tool of TOOLS) {
		if (existsSync(bin[tool])) continue;
		log(`compiling ${tool}.c → ${bin[tool]}`);
		const tmp = `${bin[tool]}.${process.pid}.tmp`;
		try {
			execFileSync('gcc', [...FLAGS, '-o', tmp, path.join(SOURCE_DIR, `${tool}.c`)], { stdio: ['ignore', 'inherit', 'inherit'], timeout: 60_000 });
			renameSync(tmp, bin[tool]);
		} finally {
			rmSync(tmp, { force: true });
		}
	}
	return { dir, bin };
}
