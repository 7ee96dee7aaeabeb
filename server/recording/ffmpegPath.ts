import { accessSync, constants } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';

/**
 * Where ffmpeg comes from: FFMPEG_PATH (config), else ffmpeg-static's binary
 * when that package is installed and its binary really exists (its install
 * script downloads it, which fails offline), else the first ffmpeg on PATH.
 */
export function resolveFfmpeg(configured: string | undefined, envPath = process.env['PATH'] ?? ''): string {
	if (configured) {
		assertExecutable(configured, 'FFMPEG_PATH');
		return configured;
	}
	try {
		const fromPackage = createRequire(import.meta.url)('ffmpeg-static') as string | null;
		if (fromPackage && isExecutable(fromPackage)) return fromPackage;
	} catch {
		// Not installed: fine.
	}
	for (const dir of envPath.split(path.delimiter).filter(Boolean)) {
		const candidate = path.join(dir, 'ffmpeg');
		if (isExecutable(candidate)) return candidate;
	}
	throw new Error('ffmpeg not found: install it (apt-get install ffmpeg) or set FFMPEG_PATH');
}

/** ffprobe beside the resolved ffmpeg, else on PATH. */
export function resolveFfprobe(ffmpeg: string): string {
	const sibling = path.join(path.dirname(ffmpeg), 'ffprobe');
	return isExecutable(sibling) ? sibling : 'ffprobe';
}

function isExecutable(file: string): boolean {
	try {
		accessSync(file, constants.X_OK);
		return true;
	} catch {
		return false;
	}
}

function assertExecutable(file: string, setting: string): void {
	if (!isExecutable(file)) throw new Error(`${setting}: ${file} is not an executable file`);
}
