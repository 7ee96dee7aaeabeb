import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { Ajv, type ValidateFunction } from 'ajv';
import { createGenerator } from 'ts-json-schema-generator';
import { parse } from 'yaml';
import { buildDashboards } from '../../grafana/src/dashboards.js';
import { DATASOURCE_UID } from '../../grafana/src/panels.js';
import { REPO_ROOT } from '../support/serverProcess.js';
import { shippedDashboards } from './shippedQueries.js';

const SCHEMA_TYPES = path.join(REPO_ROOT, 'node_modules/@grafana/schema/dist/types');

/** A JSON Schema generated from one of @grafana/schema's TypeScript types (what Grafana's own code uses). */
function schemaOf(file: string, type: string): ValidateFunction {
	const schema = createGenerator({ path: path.join(SCHEMA_TYPES, file), type, skipTypeCheck: true, expose: 'export', topRef: true }).createSchema(type);
	return new Ajv({ allErrors: true, strict: false }).compile(schema);
}

function describeErrors(validate: ValidateFunction): string {
	return (validate.errors ?? [])
		.slice(0, 5)
		.map((e) => `${e.instancePath || '/'} ${e.message} ${e.params ? JSON.stringify(e.params) : ''}`)
		.join('\n');
}

interface PanelJson {
	id: number;
	type: string;
	title: string;
	gridPos: { x: number; y: number; w: number; h: number };
	options?: Record<string, unknown>;
	fieldConfig?: { defaults: { custom?: Record<string, unknown> } };
	datasource?: { uid: string; type: string };
	targets?: { expr: string; refId: string; datasource?: { uid: string } }[];
}

describe('observability: Grafana dashboards and provisioning', function () {
	this.timeout(60_000);
	const dashboards = shippedDashboards();

	it('ships four dashboards, and the JSON files are what grafana/src builds (npm run grafana:build)', () => {
		const built = buildDashboards();
		expect(dashboards.map((d) => d.file)).to.deep.equal(Object.keys(built).sort());
		for (const { file, json } of dashboards) expect(json, `${file} is stale: run npm run grafana:build`).to.deep.equal(built[file]);
	});

	it("validates against Grafana's dashboard schema (@grafana/schema), panel options included", () => {
		const dashboard = schemaOf('raw/dashboard/x/types.gen.d.ts', 'Dashboard');
		const panelSchemas: Record<string, { options: ValidateFunction; custom: ValidateFunction | null }> = {
			timeseries: {
				options: schemaOf('raw/composable/timeseries/panelcfg/x/types.gen.d.ts', 'Options'),
				custom: schemaOf('raw/composable/timeseries/panelcfg/x/types.gen.d.ts', 'FieldConfig'),
			},
			stat: { options: schemaOf('raw/composable/stat/panelcfg/x/types.gen.d.ts', 'Options'), custom: null },
			table: {
				options: schemaOf('raw/composable/table/panelcfg/x/types.gen.d.ts', 'Options'),
				custom: schemaOf('raw/composable/table/panelcfg/x/types.gen.d.ts', 'FieldConfig'),
			},
		};
		for (const { file, json } of dashboards) {
			expect(dashboard(json), `${file}:\n${describeErrors(dashboard)}`).to.equal(true);
			for (const panel of json['panels'] as PanelJson[]) {
				if (panel.type === 'row') continue;
				const schemas = panelSchemas[panel.type];
				expect(schemas, `${file}: panel type ${panel.type} has no schema check`).to.not.equal(undefined);
				expect(schemas!.options(panel.options), `${file} › ${panel.title} options:\n${describeErrors(schemas!.options)}`).to.equal(true);
				const custom = panel.fieldConfig?.defaults.custom;
				if (schemas!.custom && custom) expect(schemas!.custom(custom), `${file} › ${panel.title} custom:\n${describeErrors(schemas!.custom)}`).to.equal(true);
				else expect(custom, `${file} › ${panel.title}: custom field config without a schema`).to.equal(undefined);
			}
		}
	});

	it('the schema check rejects a broken dashboard', () => {
		const dashboard = schemaOf('raw/dashboard/x/types.gen.d.ts', 'Dashboard');
		const broken = structuredClone(dashboards[0]!.json);
		(broken['panels'] as Record<string, unknown>[])[1]!['gridPos'] = { h: 4, w: 'wide', x: 0, y: 0 };
		expect(dashboard(broken)).to.equal(false);
		const misspelled = structuredClone(dashboards[0]!.json);
		misspelled['schemaVerison'] = 39;
		expect(dashboard(misspelled)).to.equal(false);
	});

	it('lays panels out on the 24-column grid without overlaps, with unique ids and one Prometheus query per target', () => {
		for (const { file, json } of dashboards) {
			const panels = json['panels'] as PanelJson[];
			expect(new Set(panels.map((p) => p.id)).size, `${file}: duplicate panel ids`).to.equal(panels.length);
			const uid = json['uid'] as string;
			expect(uid).to.match(/^[a-z0-9-]{1,40}$/);
			const cells = new Set<string>();
			for (const panel of panels) {
				const { x, y, w, h } = panel.gridPos;
				expect(x + w, `${file} › ${panel.title} overflows the grid`).to.be.at.most(24);
				for (let i = x; i < x + w; i++) {
					for (let j = y; j < y + h; j++) {
						const cell = `${i},${j}`;
						expect(cells.has(cell), `${file} › ${panel.title} overlaps another panel at ${cell}`).to.equal(false);
						cells.add(cell);
					}
				}
				if (panel.type === 'row') continue;
				expect(panel.targets?.length, `${file} › ${panel.title} has no query`).to.be.greaterThan(0);
				expect(panel.datasource?.uid).to.equal('${datasource}');
				expect(new Set(panel.targets!.map((t) => t.refId)).size).to.equal(panel.targets!.length);
			}
		}
	});

	it('provisioning: the datasource the dashboards default to, and a file provider for them', () => {
		const datasources = parse(readFileSync(path.join(REPO_ROOT, 'grafana/provisioning/datasources/sfu-prometheus.yml'), 'utf8')) as {
			apiVersion: number;
			datasources: { uid: string; type: string; url: string; access: string }[];
		};
		expect(datasources.apiVersion).to.equal(1);
		const prometheus = datasources.datasources.find((d) => d.uid === DATASOURCE_UID);
		expect(prometheus?.type).to.equal('prometheus');
		expect(prometheus?.access).to.equal('proxy');
		expect(() => new URL(prometheus!.url)).to.not.throw();
		const providers = parse(readFileSync(path.join(REPO_ROOT, 'grafana/provisioning/dashboards/sfu-dashboards.yml'), 'utf8')) as {
			apiVersion: number;
			providers: { type: string; options: { path: string } }[];
		};
		expect(providers.apiVersion).to.equal(1);
		expect(providers.providers[0]?.type).to.equal('file');
		expect(providers.providers[0]?.options.path).to.match(/^\//);
		for (const { json } of dashboards) {
			const variable = (json['templating'] as { list: { name: string; current?: { value: string } }[] }).list.find((v) => v.name === 'datasource');
			expect(variable?.current?.value).to.equal(DATASOURCE_UID);
		}
	});
});
