/**
 * Writes grafana/dashboards/*.json from grafana/src/dashboards.ts.
 * Usage: npm run grafana:build (the tests fail when the files are stale).
 */
import { writeFileSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildDashboards } from './src/dashboards.js';

const dir = path.join(path.dirname(fileURLToPath(import.meta.url)), 'dashboards');
mkdirSync(dir, { recursive: true });
for (const [file, json] of Object.entries(buildDashboards())) {
	writeFileSync(path.join(dir, file), `${JSON.stringify(json, null, '\t')}\n`);
	console.log(`wrote grafana/dashboards/${file}`);
}
