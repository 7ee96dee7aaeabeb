import { closeSync, createReadStream, existsSync, fstatSync, openSync, readdirSync, readSync, statSync } from 'node:fs';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { FILE_PATTERN } from './AuditEntry.js';

/** One file of a node's trail. */
export interface AuditFile {
	name: string;
	path: string;
	firstSeq: number;
	/** `YYYYMMDD` (UTC) of its first entry: files never span days. */
	day: string;
}

/** A node's trail files, in chain order. */
export function listAuditFiles(nodeDir: string): AuditFile[] {
	if (!existsSync(nodeDir)) return [];
	const files: AuditFile[] = [];
	for (const name of readdirSync(nodeDir)) {
		const match = FILE_PATTERN.exec(name);
		if (match) files.push({ name, path: path.join(nodeDir, name), firstSeq: Number(match[1]), day: match[2]! });
	}
	return files.sort((a, b) => a.firstSeq - b.firstSeq || a.name.localeCompare(b.name));
}

/** The node folders under an audit root (one chain each). */
export function listNodeDirs(root: string): { node: string; dir: string }[] {
	if (!existsSync(root)) return [];
	return readdirSync(root)
		.filter((name) => statSync(path.join(root, name)).isDirectory())
		.sort()
		.map((node) => ({ node, dir: path.join(root, node) }));
}

/** Lines of a file, streamed, with 1-based numbers. A last line without newline is yielded with `complete: false`. */
export async function* readLines(file: string): AsyncGenerator<{ line: string; number: number }> {
	const lines = createInterface({ input: createReadStream(file, { encoding: 'utf8' }), crlfDelay: Infinity });
	let number = 0;
	for await (const line of lines) {
		number += 1;
		yield { line, number };
	}
}

/**
 * The last complete line of a file and the byte length up to its end
 * (a torn tail after it, left by a crash mid-write, is beyond `end`).
 */
export function lastCompleteLine(file: string): { line: string | null; end: number; size: number } {
	const fd = openSync(file, 'r');
	try {
		const size = fstatSync(fd).size;
		const chunk = Math.min(size, 256 * 1024);
		const buffer = Buffer.alloc(chunk);
		readSync(fd, buffer, 0, chunk, size - chunk);
		const lastNewline = buffer.lastIndexOf(0x0a);
		if (lastNewline < 0) {
			if (size > chunk) throw new Error(`${path.basename(file)}: no line end in its last ${chunk} bytes`);
			return { line: null, end: 0, size };
		}
		const before = buffer.lastIndexOf(0x0a, lastNewline - 1);
		return { line: buffer.subarray(before + 1, lastNewline).toString('utf8'), end: size - chunk + lastNewline + 1, size };
	} finally {
		closeSync(fd);
	}
}
