import { expect } from 'chai';
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const run = promisify(execFile);
const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const CONFIG = path.join(ROOT, '.dependency-cruiser.cjs');
const DEPCRUISE = path.join(ROOT, 'node_modules/.bin/depcruise');

interface Violation {
	type: string;
	from: string;
	to: string;
	rule: { name: string; severity: string };
	cycle?: { name: string }[];
}

/** Runs dependency-cruiser with the project's rules; resolves with the violations (it exits non-zero when there are some). */
async function cruise(cwd: string, paths: string[]): Promise<Violation[]> {
	const args = ['--config', CONFIG, '--output-type', 'json', ...paths];
	let stdout: string;
	try {
		({ stdout } = await run(DEPCRUISE, args, { cwd, maxBuffer: 64 * 1024 * 1024 }));
	} catch (error) {
		const failed = error as { stdout?: string; stderr?: string };
		if (!failed.stdout) throw new Error(`dependency-cruiser failed: ${failed.stderr ?? String(error)}`, { cause: error });
		stdout = failed.stdout;
	}
	return (JSON.parse(stdout) as { summary: { violations: Violation[] } }).summary.violations;
}

const describeViolation = (v: Violation): string => `${v.rule.name}: ${v.from} → ${v.to}${v.cycle ? ` (cycle: ${v.cycle.map((c) => c.name).join(' → ')})` : ''}`;

describe('architecture: the layers of the server', function () {
	this.timeout(120_000);

	it('imports run only downward between folders, through their index, without cycles', async () => {
		const violations = await cruise(ROOT, ['server', 'worker-config', 'client-sdk/src']);
		expect(violations.map(describeViolation)).to.deep.equal([]);
	});

	it('a forbidden import fails the check (rooms → signaling, media ↔ auth, protocol → rooms)', async () => {
		const dir = mkdtempSync(path.join(tmpdir(), 'layers-'));
		try {
			const write = (file: string, text: string): void => {
				mkdirSync(path.dirname(path.join(dir, file)), { recursive: true });
				writeFileSync(path.join(dir, file), text);
			};
			write('tsconfig.json', JSON.stringify({ compilerOptions: { module: 'NodeNext', moduleResolution: 'NodeNext', strict: true }, include: ['server/**/*.ts'] }));
			write('package.json', JSON.stringify({ type: 'module' }));
			write('server/signaling/index.ts', "export const handler = 1;\n");
			write('server/rooms/index.ts', "export { Room } from './Room.js';\n");
			write('server/rooms/Room.ts', "import { handler } from '../signaling/index.js';\nexport class Room { h = handler; }\n");
			write('server/media/index.ts', "import { canPublish } from '../auth/index.js';\nexport const media = canPublish;\n");
			write('server/auth/index.ts', "import { media } from '../media/index.js';\nexport const canPublish = () => media;\n");
			write('server/protocol/index.ts', "import type { Room } from '../rooms/index.js';\nexport type R = Room;\n");

			const rules = new Set((await cruise(dir, ['server'])).map((v) => v.rule.name));
			expect(rules).to.include('no-upward-from-domain'); // rooms → signaling
			expect(rules).to.include('no-sideways-from-media'); // media → auth
			expect(rules).to.include('no-sideways-from-auth'); // auth → media
			expect(rules).to.include('no-folder-cycles'); // media ↔ auth
			expect(rules).to.include('protocol-imports-nothing-of-the-server');
			expect(rules).to.include('no-upward-from-ground'); // protocol → rooms
		} finally {
			rmSync(dir, { recursive: true, force: true });
		}
	});
});
