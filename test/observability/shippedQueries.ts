import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';
import { REPO_ROOT } from '../support/serverProcess.js';

export const DASHBOARD_DIR = path.join(REPO_ROOT, 'grafana/dashboards');
export const RULES_DIR = path.join(REPO_ROOT, 'grafana/prometheus/rules');

/**
 * Metrics an expression may name before any code exports them: the alert on
 * them is the contract the module that will feed them implements. The test
 * checks they are really absent, so adding the metric makes its data
 * mandatory here (move the name out of this list then).
 */
export const PENDING_METRICS: Readonly<Record<string, string>> = {
	// Exported only with REDIS_URL (test/cluster/membership.test.ts scrapes it
	// from a real cluster); this test's single node has no cluster to report.
	sfu_cluster_redis_up: 'exported only by nodes running with REDIS_URL',
};

export interface ShippedQuery {
	/** Where it comes from, for failure messages. */
	where: string;
	expr: string;
}

interface Panel {
	title?: string;
	type: string;
	targets?: { expr?: string; refId?: string }[];
	panels?: Panel[];
}

export function shippedDashboards(): { file: string; json: Record<string, unknown> }[] {
	return readdirSync(DASHBOARD_DIR)
		.filter((f) => f.endsWith('.json'))
		.sort()
		.map((file) => ({ file, json: JSON.parse(readFileSync(path.join(DASHBOARD_DIR, file), 'utf8')) as Record<string, unknown> }));
}

/** Every panel target and every query variable of the shipped dashboards. */
export function dashboardQueries(): ShippedQuery[] {
	const out: ShippedQuery[] = [];
	for (const { file, json } of shippedDashboards()) {
		const visit = (panels: Panel[]): void => {
			for (const panel of panels) {
				for (const target of panel.targets ?? []) {
					if (target.expr) out.push({ where: `${file} › ${panel.title} › ${target.refId}`, expr: target.expr });
				}
				visit(panel.panels ?? []);
			}
		};
		visit((json['panels'] as Panel[]) ?? []);
		const variables = ((json['templating'] as { list?: { name: string; type: string; query?: unknown }[] })?.list ?? []).filter((v) => v.type === 'query');
		for (const variable of variables) {
			// label_values(selector, label): the selector must return series.
			const match = /^label_values\((.+),\s*\w+\)$/.exec(typeof variable.query === 'string' ? variable.query : '');
			if (!match) throw new Error(`${file}: variable ${variable.name} is not a label_values() query`);
			out.push({ where: `${file} › variable ${variable.name}`, expr: match[1]! });
		}
	}
	return out;
}

export interface ShippedRule {
	where: string;
	kind: 'alert' | 'record';
	name: string;
	expr: string;
}

export function shippedRules(): ShippedRule[] {
	const out: ShippedRule[] = [];
	for (const file of readdirSync(RULES_DIR).filter((f) => f.endsWith('.yml')).sort()) {
		const doc = parse(readFileSync(path.join(RULES_DIR, file), 'utf8')) as { groups: { name: string; rules: { alert?: string; record?: string; expr: string }[] }[] };
		for (const group of doc.groups) {
			for (const rule of group.rules) {
				const name = rule.alert ?? rule.record ?? '?';
				out.push({ where: `${file} › ${group.name} › ${name}`, kind: rule.alert ? 'alert' : 'record', name, expr: String(rule.expr).trim() });
			}
		}
	}
	return out;
}
