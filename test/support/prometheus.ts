import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parser } from '@prometheus-io/lezer-promql';
import { waitFor } from './processes.js';
import { REPO_ROOT } from './serverProcess.js';

export const PROMETHEUS = process.env['PROMETHEUS_PATH'] ?? '/usr/bin/prometheus';
export const PROMTOOL = process.env['PROMTOOL_PATH'] ?? '/usr/bin/promtool';
export const SHIPPED_PROMETHEUS_DIR = path.join(REPO_ROOT, 'grafana/prometheus');

export interface PromSeries {
	metric: Record<string, string>;
	value: [number, string];
}

/** A real Prometheus on loopback, scraping with the shipped config (faster intervals). */
export interface TestPrometheus {
	url: string;
	/** The config folder it runs from (a copy of grafana/prometheus). */
	configDir: string;
	/** Instant query; throws unless Prometheus answers `success`. */
	query(expr: string): Promise<PromSeries[]>;
	close(): Promise<void>;
}

export async function freePort(): Promise<number> {
	return new Promise((resolve, reject) => {
		const server = createServer();
		server.once('error', reject);
		server.listen(0, '127.0.0.1', () => {
			const { port } = server.address() as { port: number };
			server.close(() => resolve(port));
		});
	});
}

/**
 * Starts Prometheus from a copy of grafana/prometheus/ with the scrape and
 * rule intervals set to `intervalSeconds` and file-based discovery pointed at
 * `targets` (host:port). Resolves when every target is up.
 */
export async function startPrometheus(targets: string[], intervalSeconds = 1): Promise<TestPrometheus> {
	const root = mkdtempSync(path.join(tmpdir(), 'sfu-prometheus-'));
	const configDir = path.join(root, 'config');
	const dataDir = path.join(root, 'data');
	cpSync(SHIPPED_PROMETHEUS_DIR, configDir, { recursive: true });
	const configFile = path.join(configDir, 'prometheus.yml');
	const shipped = readFileSync(configFile, 'utf8');
	const config = shipped
		.replace(/scrape_interval: \d+s/, `scrape_interval: ${intervalSeconds}s`)
		.replace(/scrape_timeout: \d+s/, `scrape_timeout: ${intervalSeconds}s`)
		.replace(/evaluation_interval: \d+s/, `evaluation_interval: ${intervalSeconds}s`)
		.replace(/refresh_interval: \d+s/, `refresh_interval: ${intervalSeconds}s`);
	if (config === shipped) throw new Error('the shipped prometheus.yml no longer has the intervals this test speeds up');
	writeFileSync(configFile, config);
	writeFileSync(path.join(configDir, 'targets/sfu-nodes.json'), JSON.stringify([{ targets, labels: { site: 'test' } }]));
	const port = await freePort();
	const url = `http://127.0.0.1:${port}`;
	let output = '';
	const proc: ChildProcess = spawn(
		PROMETHEUS,
		[`--config.file=${configFile}`, `--storage.tsdb.path=${dataDir}`, `--web.listen-address=127.0.0.1:${port}`, '--log.level=warn'],
		{ stdio: ['ignore', 'pipe', 'pipe'] },
	);
	proc.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
	proc.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
	const exited = new Promise<void>((resolve) => proc.once('exit', () => resolve()));

	const close = async (): Promise<void> => {
		if (proc.exitCode === null && proc.signalCode === null) {
			proc.kill('SIGTERM');
			const timer = setTimeout(() => proc.kill('SIGKILL'), 5000);
			await exited;
			clearTimeout(timer);
		}
		rmSync(root, { recursive: true, force: true });
	};
	const query = async (expr: string): Promise<PromSeries[]> => {
		const response = await fetch(`${url}/api/v1/query`, { method: 'POST', body: new URLSearchParams({ query: expr }) });
		const body = (await response.json()) as { status: string; error?: string; data?: { resultType: string; result: PromSeries[] | [number, string] } };
		if (body.status !== 'success') throw new Error(`Prometheus refused ${expr}: ${body.error}`);
		const result = body.data!.result;
		// A scalar result is one value, not a list of series.
		return body.data!.resultType === 'scalar' ? [{ metric: {}, value: result as [number, string] }] : (result as PromSeries[]);
	};
	try {
		await waitFor(async () => (await fetch(`${url}/-/ready`).catch(() => null))?.ok, 20_000, `Prometheus ready (${output.slice(-500)})`);
		await waitFor(async () => (await query('up{job="sfu"} == 1')).length === targets.length, 20_000, 'every target scraped and up');
	} catch (error) {
		await close();
		throw error;
	}
	return { url, configDir, query, close };
}

/** Runs promtool; returns its exit code and output. */
export function promtool(...args: string[]): { status: number | null; output: string } {
	const result = spawnSync(PROMTOOL, args, { encoding: 'utf8' });
	return { status: result.status, output: `${result.stdout}${result.stderr}` };
}

/** Grafana variables in dashboard queries, replaced the way Grafana would for "All nodes". */
export function expandGrafanaVariables(expr: string, rateInterval = '1m', range = '10m'): string {
	return expr
		.replaceAll('$__rate_interval', rateInterval)
		.replaceAll('$__interval', rateInterval)
		.replaceAll('$__range', range)
		.replaceAll('$instance', '.*');
}

export interface ParsedPromql {
	/** Syntax errors lezer found (empty when the expression parses). */
	errors: string[];
	/** Every instant vector selector, as written (`metric{labels}`), with its metric name. */
	selectors: { text: string; metric: string }[];
	/** The expression with `bool` after every comparison: it returns a 0/1 series wherever the plain one could fire. */
	withBool: string;
}

/** Parses PromQL with Prometheus's own lezer grammar. */
export function parsePromql(expr: string): ParsedPromql {
	const tree = parser.parse(expr);
	const errors: string[] = [];
	const selectors: { text: string; metric: string }[] = [];
	const inserts: number[] = [];
	const comparisons = new Set(['Gtr', 'Lss', 'Gte', 'Lte', 'Eql', 'Neq']);
	tree.iterate({
		enter(node) {
			if (node.type.isError) errors.push(`syntax error at ${node.from}: ${JSON.stringify(expr.slice(Math.max(0, node.from - 20), node.to + 20))}`);
			if (node.name === 'VectorSelector') {
				const identifier = node.node.getChild('Identifier');
				selectors.push({ text: expr.slice(node.from, node.to), metric: identifier ? expr.slice(identifier.from, identifier.to) : '' });
			}
			if (comparisons.has(node.name) && node.node.parent?.name === 'BinaryExpr' && node.node.nextSibling?.name !== 'BoolModifier') inserts.push(node.to);
		},
	});
	let withBool = expr;
	for (const at of inserts.sort((a, b) => b - a)) withBool = `${withBool.slice(0, at)} bool${withBool.slice(at)}`;
	return { errors, selectors, withBool };
}
