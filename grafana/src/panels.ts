/**
 * Small builders for Grafana's dashboard JSON model (schemaVersion 39+):
 * every panel queries Prometheus through the `datasource` variable, and
 * panels are laid out left to right, top to bottom, on Grafana's 24-column grid.
 * The output is checked against @grafana/schema in test/observability.
 */

export const DATASOURCE_UID = 'sfu-prometheus';
const DS = { type: 'prometheus', uid: '${datasource}' };

/** Series selector every query starts from: the nodes picked in the `instance` variable. */
export const NODE = 'job="sfu", instance=~"$instance"';

export interface Query {
	expr: string;
	legend?: string;
	/** Table panels read one value per series. */
	instant?: boolean;
}

interface PanelBase {
	title: string;
	description: string;
	queries: Query[];
	/** Grafana unit id, e.g. 'bps', 'percent', 's', 'bytes', 'short'. */
	unit?: string;
	/** Width in grid columns (of 24). Default 12 for graphs, 4 for stats. */
	width?: number;
	height?: number;
	/** Values from which the stat/graph turns amber and red. */
	thresholds?: [amber: number, red: number];
	min?: number;
	max?: number;
	decimals?: number;
}

export interface GraphPanel extends PanelBase {
	kind: 'timeseries';
	stack?: boolean;
}
export interface StatPanel extends PanelBase {
	kind: 'stat';
}
export interface TablePanel extends PanelBase {
	kind: 'table';
}
export type PanelSpec = GraphPanel | StatPanel | TablePanel;

export interface RowSpec {
	title: string;
	panels: PanelSpec[];
}

export interface DashboardSpec {
	uid: string;
	title: string;
	description: string;
	tags: string[];
	rows: RowSpec[];
	/** Variables beyond `datasource` and `instance`. */
	extraVariables?: Record<string, unknown>[];
}

function thresholds(spec: PanelBase): Record<string, unknown> {
	const steps: { color: string; value: number | null }[] = [{ color: 'green', value: null }];
	if (spec.thresholds) steps.push({ color: 'orange', value: spec.thresholds[0] }, { color: 'red', value: spec.thresholds[1] });
	return { mode: 'absolute', steps };
}

function targets(queries: Query[], table: boolean): Record<string, unknown>[] {
	return queries.map((q, i) => ({
		refId: String.fromCharCode(65 + i),
		datasource: DS,
		editorMode: 'code',
		expr: q.expr,
		legendFormat: q.legend ?? '__auto',
		range: !(q.instant ?? table),
		instant: q.instant ?? table,
		...(table ? { format: 'table' } : {}),
	}));
}

function defaults(spec: PanelSpec, custom: Record<string, unknown> | null): Record<string, unknown> {
	return {
		...(custom ? { custom } : {}),
		unit: spec.unit ?? 'short',
		thresholds: thresholds(spec),
		color: { mode: spec.kind === 'timeseries' ? 'palette-classic' : 'thresholds' },
		...(spec.min !== undefined ? { min: spec.min } : {}),
		...(spec.max !== undefined ? { max: spec.max } : {}),
		...(spec.decimals !== undefined ? { decimals: spec.decimals } : {}),
	};
}

function panelJson(spec: PanelSpec, id: number, gridPos: Record<string, number>): Record<string, unknown> {
	const base = { id, type: spec.kind, title: spec.title, description: spec.description, datasource: DS, gridPos };
	switch (spec.kind) {
		case 'timeseries':
			return {
				...base,
				targets: targets(spec.queries, false),
				fieldConfig: {
					defaults: defaults(spec, {
						drawStyle: 'line',
						lineWidth: 1,
						fillOpacity: spec.stack ? 30 : 10,
						showPoints: 'never',
						spanNulls: false,
						stacking: { mode: spec.stack ? 'normal' : 'none', group: 'A' },
						thresholdsStyle: { mode: spec.thresholds ? 'line' : 'off' },
					}),
					overrides: [],
				},
				options: {
					legend: { showLegend: true, displayMode: 'list', placement: 'bottom', calcs: [] },
					tooltip: { mode: 'multi', sort: 'desc' },
				},
			};
		case 'stat':
			return {
				...base,
				targets: targets(spec.queries, false),
				fieldConfig: { defaults: defaults(spec, null), overrides: [] },
				options: {
					reduceOptions: { calcs: ['lastNotNull'], fields: '', values: false },
					orientation: 'auto',
					textMode: 'auto',
					colorMode: 'value',
					graphMode: 'area',
					justifyMode: 'auto',
					wideLayout: true,
					showPercentChange: false,
					percentChangeColorMode: 'standard',
				},
			};
		case 'table':
			return {
				...base,
				targets: targets(spec.queries, true),
				fieldConfig: { defaults: defaults(spec, { align: 'auto', cellOptions: { type: 'auto' }, inspect: false }), overrides: [] },
				options: { showHeader: true, cellHeight: 'sm', frameIndex: 0 },
				// One row per series, one column per query.
				transformations: [{ id: 'merge', options: {} }, { id: 'organize', options: { excludeByName: { Time: true } } }],
			};
	}
}

/** The dashboard JSON Grafana provisions from grafana/dashboards/. */
export function dashboardJson(spec: DashboardSpec): Record<string, unknown> {
	const panels: Record<string, unknown>[] = [];
	let id = 1;
	let y = 0;
	for (const row of spec.rows) {
		panels.push({ id: id++, type: 'row', title: row.title, collapsed: false, gridPos: { h: 1, w: 24, x: 0, y }, panels: [] });
		y += 1;
		let x = 0;
		let rowHeight = 0;
		for (const panel of row.panels) {
			const w = panel.width ?? (panel.kind === 'stat' ? 4 : 12);
			const h = panel.height ?? (panel.kind === 'stat' ? 4 : 8);
			if (x + w > 24) {
				y += rowHeight;
				x = 0;
				rowHeight = 0;
			}
			panels.push(panelJson(panel, id++, { h, w, x, y }));
			x += w;
			rowHeight = Math.max(rowHeight, h);
		}
		y += rowHeight;
	}
	return {
		uid: spec.uid,
		title: spec.title,
		description: spec.description,
		tags: ['telehealth', 'sfu', ...spec.tags],
		timezone: 'browser',
		editable: true,
		graphTooltip: 1,
		refresh: '30s',
		schemaVersion: 39,
		version: 1,
		time: { from: 'now-3h', to: 'now' },
		timepicker: {},
		fiscalYearStartMonth: 0,
		liveNow: false,
		links: [{ title: 'SFU dashboards', type: 'dashboards', tags: ['sfu'], asDropdown: true, includeVars: true, keepTime: true, icon: 'external link', targetBlank: false, tooltip: '', url: '' }],
		annotations: {
			list: [
				{
					builtIn: 1,
					datasource: { type: 'grafana', uid: '-- Grafana --' },
					enable: true,
					hide: true,
					iconColor: 'rgba(0, 211, 255, 1)',
					name: 'Annotations & Alerts',
					type: 'dashboard',
				},
			],
		},
		templating: {
			list: [
				{
					name: 'datasource',
					label: 'Prometheus',
					type: 'datasource',
					query: 'prometheus',
					current: { text: 'Prometheus', value: DATASOURCE_UID },
					hide: 0,
					refresh: 1,
					regex: '',
					options: [],
				},
				{
					name: 'instance',
					label: 'SFU node',
					type: 'query',
					datasource: DS,
					query: 'label_values(sfu_build_info{job="sfu"}, instance)',
					includeAll: true,
					allValue: '.*',
					multi: true,
					current: { text: ['All'], value: ['$__all'] },
					refresh: 2,
					sort: 1,
					hide: 0,
					regex: '',
					options: [],
				},
				...(spec.extraVariables ?? []),
			],
		},
		panels,
	};
}
