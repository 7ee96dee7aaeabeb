/**
 * HTML report of the load tests' last runs: reads load-tests/results/*.json
 * (signaling, grand-round, churn, forwarding, …) and writes load-tests/results/report.html,
 * a self-contained page with tables and inline SVG bar/line charts (no
 * network, no dependencies).
 *
 *   npm run bench:report
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { RESULTS_DIR } from './lib/measure.js';
import type { MediaSummary } from './lib/mediaSummary.js';
import type { BrowsersResult, ChurnResult, ConferenceRun, ConferencesResult, ForwardingResult, GrandRoundResult, SignalingResult } from './lib/results.js';

/** A result file as its runner wrote it (lib/results.ts has the shapes), or null before a first run. */
const read = <T>(name: string): T | null => {
	const file = path.join(RESULTS_DIR, name);
	return existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as T) : null;
};
const esc = (s: unknown): string => String(s).replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]!);
const n = (v: unknown, d = 1): string => (typeof v === 'number' && Number.isFinite(v) ? v.toFixed(d) : 'n/a');

/** Grouped horizontal bars: one group per label, one bar per series. */
function bars(title: string, labels: string[], series: { name: string; values: number[] }[], unit: string): string {
	const colors = ['#3b82f6', '#f59e0b', '#10b981', '#ef4444', '#8b5cf6'];
	const max = Math.max(1e-9, ...series.flatMap((s) => s.values.filter(Number.isFinite)));
	const rowH = 16;
	const groupH = series.length * rowH + 10;
	const width = 640;
	const left = 110;
	const height = labels.length * groupH + 30;
	let svg = `<svg width="${width}" height="${height}" role="img" aria-label="${esc(title)}"><text x="0" y="14" font-weight="bold">${esc(title)}</text>`;
	labels.forEach((label, g) => {
		const y0 = 24 + g * groupH;
		svg += `<text x="0" y="${y0 + (series.length * rowH) / 2 + 4}">${esc(label)}</text>`;
		series.forEach((s, i) => {
			const v = s.values[g] ?? NaN;
			const w = Number.isFinite(v) ? ((width - left - 90) * v) / max : 0;
			svg += `<rect x="${left}" y="${y0 + i * rowH}" width="${w.toFixed(1)}" height="${rowH - 3}" fill="${colors[i % colors.length]}"><title>${esc(s.name)}: ${n(v, 2)} ${esc(unit)}</title></rect>`;
			svg += `<text x="${left + w + 4}" y="${y0 + i * rowH + rowH - 5}" font-size="11">${esc(s.name)} ${n(v, 2)} ${esc(unit)}</text>`;
		});
	});
	return `${svg}</svg>`;
}

/** A line chart of several series over x; log axes (base 10) for data spanning decades. */
function lines(title: string, x: number[], series: { name: string; values: number[] }[], unit: string, axes: { xUnit?: string; logX?: boolean; logY?: boolean } = {}): string {
	const colors = ['#3b82f6', '#f59e0b', '#10b981', '#ef4444'];
	const width = 640;
	const height = 220;
	const pad = { l: 50, r: 10, t: 24, b: 30 };
	const tx = (v: number): number => (axes.logX ? Math.log10(Math.max(v, 1e-9)) : v);
	const ty = (v: number): number => (axes.logY ? Math.log10(Math.max(v, 1e-9)) : v);
	const finite = series.flatMap((s) => s.values.filter(Number.isFinite));
	const xmin = axes.logX ? tx(Math.min(...x)) : 0;
	const xmax = Math.max(xmin + 1e-9, axes.logX ? tx(Math.max(...x)) : Math.max(1, ...x));
	const ymin = axes.logY ? Math.floor(ty(Math.min(...finite))) : 0;
	const ymax = Math.max(ymin + 1e-9, axes.logY ? Math.ceil(ty(Math.max(...finite))) : Math.max(1e-9, ...finite));
	const px = (v: number): number => pad.l + ((width - pad.l - pad.r) * (tx(v) - xmin)) / (xmax - xmin);
	const py = (v: number): number => height - pad.b - ((height - pad.t - pad.b) * (ty(v) - ymin)) / (ymax - ymin);
	const top = axes.logY ? 10 ** ymax : ymax;
	let svg = `<svg width="${width}" height="${height}" role="img" aria-label="${esc(title)}"><text x="0" y="14" font-weight="bold">${esc(title)}</text>`;
	svg += `<line x1="${pad.l}" y1="${height - pad.b}" x2="${width - pad.r}" y2="${height - pad.b}" stroke="#999"/><line x1="${pad.l}" y1="${pad.t}" x2="${pad.l}" y2="${height - pad.b}" stroke="#999"/>`;
	svg += `<text x="2" y="${pad.t + 10}" font-size="11">${n(top, top < 10 ? 1 : 0)} ${esc(unit)}</text><text x="${width - 2}" y="${height - 8}" font-size="11" text-anchor="end">${n(axes.logX ? 10 ** xmax : xmax, 0)} ${esc(axes.xUnit ?? 's')}</text>`;
	if (axes.logY) svg += `<text x="2" y="${height - pad.b}" font-size="11">${n(10 ** ymin, ymin < 0 ? 1 : 0)}</text>`;
	if (axes.logX) for (const xv of x) svg += `<text x="${px(xv).toFixed(1)}" y="${height - pad.b + 12}" font-size="10" text-anchor="middle">${xv}</text>`;
	series.forEach((s, i) => {
		const pts = x.map((xv, j) => [xv, s.values[j]!] as const).filter(([, v]) => Number.isFinite(v));
		svg += `<polyline fill="none" stroke="${colors[i % colors.length]}" stroke-width="2" points="${pts.map(([xv, v]) => `${px(xv).toFixed(1)},${py(v).toFixed(1)}`).join(' ')}"/>`;
		svg += `<text x="${pad.l + 10 + i * 120}" y="${height - 8}" font-size="11" fill="${colors[i % colors.length]}">${esc(s.name)}</text>`;
	});
	return `${svg}</svg>`;
}

const table = (head: string[], rows: (string | number)[][]): string =>
	`<table><tr>${head.map((h) => `<th>${esc(h)}</th>`).join('')}</tr>${rows.map((r) => `<tr>${r.map((c) => `<td>${esc(c)}</td>`).join('')}</tr>`).join('')}</table>`;

/** What media bots received: one row per kind. */
const mediaTable = (m: MediaSummary): string =>
	table(
		['kind', 'tracks (silent)', 'first key frame p50 / p95 / p99 ms', 'receiver loss % (worst track)', 'kbit/s per track'],
		(['video', 'audio'] as const)
			.filter((k) => m.perKind[k].tracks > 0)
			.map((k) => {
				const x = m.perKind[k];
				return [k, `${x.tracks} (${x.silent})`, `${n(x.firstKeyFrameMs.p50, 0)} / ${n(x.firstKeyFrameMs.p95, 0)} / ${n(x.firstKeyFrameMs.p99, 0)}`, `${n(x.lossPct, 2)} (${n(x.worstLossPct, 1)})`, n(x.kbps, 0)];
			}),
	);
const sections: string[] = [];
const signaling = read<SignalingResult>('signaling.json');
if (signaling) {
	const phases = ['connect', 'join', 'burst', 'leave'];
	const engines = signaling.summary;
	sections.push(
		`<h2>Signaling: ${signaling.clients} Socket.IO clients, rooms of ${signaling.roomSize}, median of ${signaling.repeat} runs <small>(npm run bench:signaling, ${esc(signaling.date)})</small></h2>`,
		table(
			['engine', 'phase', 'ack p50 ms', 'ack p99 ms', 'server CPU ms/op', 'server % core', 'clients % core', 'errors'],
			engines.flatMap((e) =>
				phases.map((p) => {
					const ph = e.phases[p]!;
					return [e.engine, p, n(ph.p50Ms), n(ph.p99Ms), n(ph.serverCpuMsPerOp, 3), n(100 * ph.serverCoreShare, 0), n(100 * ph.clientCoreShare, 0), ph.errors];
				}),
			),
		),
		bars('Server CPU per operation', phases, engines.map((e) => ({ name: e.engine, values: phases.map((p) => e.phases[p]!.serverCpuMsPerOp) })), 'ms'),
		bars('Ack latency p99 (all clients at once)', phases, engines.map((e) => ({ name: e.engine, values: phases.map((p) => e.phases[p]!.p99Ms) })), 'ms'),
		`<p>Idle ack RTT p50: ${engines.map((e) => `${esc(e.engine)} ${n(e.idleAckRttP50Ms, 3)} ms`).join(', ')}.</p>`,
	);
}
const grand = read<GrandRoundResult>('grand-round.json');
if (grand) {
	const perNode = grand.perNode;
	sections.push(
		`<h2>Grand round: 1 presenter → ${grand.viewers} viewers over 3 nodes (${grand.joined}/${grand.signalingViewers ?? grand.viewers} signaling bots, ${grand.mediaViewers ?? 0} WebRTC media bots) <small>(npm run bench:grand-round, ${esc(grand.date)})</small></h2>`,
		...(grand.joined > 0 ? [table(['signaling bots: step', 'p50 ms', 'p95 ms', 'p99 ms', 'max ms'], Object.entries(grand.latencyMs).map(([k, s]) => [k, n(s.p50), n(s.p95), n(s.p99), n(s.max)]))] : []),
		table(
			['node', 'viewers', 'consumers/worker', 'pipes in/out', 'node CPU ms per arriving viewer', 'node % core (hold)', 'worker % core (hold)', 'node RSS MiB', 'worker RSS MiB'],
			perNode.map((p) => [
				p.node,
				p.viewers,
				JSON.stringify(p.consumersPerWorker),
				`${p.load?.pipesIn ?? '?'}/${p.load?.pipesOut ?? '?'}`,
				n(p.arrival.nodeCpuMsPerViewer, 2),
				n(100 * p.hold.nodeCoreShare),
				p.hold.workerCoreShare.map((s: number) => n(100 * s)).join(', '),
				`${n(p.rssMiB.nodeStart, 0)} → ${n(p.rssMiB.nodeEnd, 0)}`,
				`${n(p.rssMiB.workerStart, 0)} → ${n(p.rssMiB.workerEnd, 0)}`,
			]),
		),
		bars('Consumers per node', perNode.map((p) => p.node), [{ name: 'consumers', values: perNode.map((p) => Object.values(p.consumersPerWorker).reduce((a, b) => a + b, 0)) }], ''),
		...(grand.media
			? [
					`<h3>${grand.mediaViewers} WebRTC media viewers (joined after the others)</h3>`,
					`<p>Join p50 / p95 / p99: ${n(grand.media.joinMs.p50, 0)} / ${n(grand.media.joinMs.p95, 0)} / ${n(grand.media.joinMs.p99, 0)} ms. WebRTC video packets/s sent per node: ${perNode.map((p) => `${esc(p.node)} ${n(p.webrtcVideoPacketsOutPerSecond, 0)}`).join(', ')}.</p>`,
					mediaTable(grand.media),
				]
			: []),
	);
	if (grand.joined > 0) {
		sections.push(
			bars('Join latency', ['connect', 'join', 'consume', 'total'], (['p50', 'p95', 'p99'] as const).map((q) => ({ name: q, values: (['connect', 'join', 'consume', 'total'] as const).map((k) => grand.latencyMs[k][q]) })), 'ms'),
		);
	}
}
const churn = read<ChurnResult>('churn.json');
if (churn) {
	const t = churn.timeline;
	sections.push(
		`<h2>Churn: ${churn.rate} joins/s for ${churn.seconds} s, mean stay ${churn.lifetime} s <small>(npm run bench:churn, ${esc(churn.date)})</small></h2>`,
		`<p>${churn.completed}/${churn.arrivals} sessions, ${churn.failures} failed; connect→consuming p50 ${n(churn.connectToConsumingMs.p50)} ms, p95 ${n(churn.connectToConsumingMs.p95)}, p99 ${n(churn.connectToConsumingMs.p99)}; node ${n(churn.cpu.nodeCpuMsPerSession, 2)} ms CPU per session. After the drain: consumers ${churn.objects.baseline.consumers} → ${churn.objects.afterDrain.consumers}, peers ${churn.objects.baseline.peers} → ${churn.objects.afterDrain.peers}; node RSS ${n(churn.rssMiB.baseline.node, 0)} → ${n(churn.rssMiB.afterDrain.node, 0)} MiB; V8 heap after a forced GC ${n(churn.heapAfterGcMiB?.baseline)} → ${n(churn.heapAfterGcMiB?.afterDrain)} MiB.</p>`,
		...(churn.media
			? [`<h3>WebRTC viewers (--media): latency is connect → first key frame; ${churn.media.leftBeforePicture} left before theirs</h3>`, mediaTable(churn.media)]
			: []),
		lines('Active sessions and node CPU (%)', t.map((r) => r.t), [{ name: 'active', values: t.map((r) => r.active) }, { name: 'node % core', values: t.map((r) => 100 * r.nodeCoreShare) }], ''),
		lines('Connect→consuming latency (ms)', t.map((r) => r.t), [{ name: 'p50', values: t.map((r) => r.joinP50Ms) }, { name: 'p99', values: t.map((r) => r.joinP99Ms) }], 'ms'),
		lines('Memory (MiB)', t.map((r) => r.t), [{ name: 'node RSS', values: t.map((r) => r.nodeRssMiB) }, { name: 'worker RSS', values: t.map((r) => r.workerRssMiB) }], 'MiB'),
	);
}
const conferences = read<ConferencesResult>('conferences.json');
if (conferences) {
	const rows = conferences.results.filter((r): r is ConferenceRun & { media: MediaSummary } => Boolean(r.media));
	for (const r of rows) {
		const m = r.media;
		sections.push(
			`<h2>${esc(r.scenario)}: ${r.rooms} rooms × ${r.sites} sites, WebRTC media bots (${r.clip.width}×${r.clip.height} H.264 at ${esc(r.clip.bitrate)}bit/s + Opus) <small>(npm run bench:conferences, ${esc(conferences.date)})</small></h2>`,
			`<p>${m.started}/${m.bots} bots started, ${m.failed} failed. Join p50 / p95 / p99: ${n(m.joinMs.p50, 0)} / ${n(m.joinMs.p95, 0)} / ${n(m.joinMs.p99, 0)} ms; publish ${n(m.publishMs.p50, 0)} / ${n(m.publishMs.p95, 0)} / ${n(m.publishMs.p99, 0)} ms. Consumers per worker ${esc(JSON.stringify(r.consumersPerWorker))}. Host net.core.rmem_default: ${r.host?.rmemDefault ? `${n(r.host.rmemDefault / 1024, 0)} KiB` : 'not recorded'}.</p>`,
			mediaTable(m),
			table(
				['server view (hold)', 'packets/s', 'loss %'],
				Object.entries(r.serverRtp).map(([k, v]) => [k, n(v.packetsPerSecond, 0), n(v.lossPct, 2)]),
			),
			bars(
				`CPU over the ${r.hold.seconds} s hold (% of one core)`,
				['node process', ...r.hold.workerCoreShare.map((_: number, i: number) => `worker ${i}`), ...r.hold.botProcessCoreShare.map((_: number, i: number) => `bot process ${i}`)],
				[{ name: 'CPU', values: [r.hold.nodeCoreShare, ...r.hold.workerCoreShare, ...r.hold.botProcessCoreShare].map((c: number) => 100 * c) }],
				'%',
			),
			`<p>RSS node ${n(r.rssMiB.start.node, 0)} → ${n(r.rssMiB.end.node, 0)} MiB; workers ${r.rssMiB.start.workers.map((x: number) => n(x, 0)).join(' / ')} → ${r.rssMiB.end.workers.map((x: number) => n(x, 0)).join(' / ')} MiB.</p>`,
		);
	}
}
const browsers = read<BrowsersResult>('browsers.json');
if (browsers) {
	sections.push(
		`<h2>Real browsers: ${browsers.tabs} Chromium tabs in ${browsers.rooms} rooms <small>(npm run bench:browsers, ${esc(browsers.date)})</small></h2>`,
		table(
			['measure', 'p50', 'p95', 'max'],
			[
				['join ms (page load → joined)', n(browsers.joinMs.p50), n(browsers.joinMs.p95), n(browsers.joinMs.max)],
				['first frame ms', n(browsers.firstFrameMs.p50), n(browsers.firstFrameMs.p95), n(browsers.firstFrameMs.max)],
				['inbound video kbit/s', n(browsers.videoKbps.p50, 0), n(browsers.videoKbps.p95, 0), n(browsers.videoKbps.max, 0)],
				['video loss %', n(browsers.videoLossPercent.p50, 2), n(browsers.videoLossPercent.p95, 2), n(browsers.videoLossPercent.max, 2)],
				['audio loss %', n(browsers.audioLossPercent.p50, 2), n(browsers.audioLossPercent.p95, 2), n(browsers.audioLossPercent.max, 2)],
			],
		),
		bars('CPU (% of one core)', ['Chromium (all tabs)', 'server process', 'mediasoup worker'], [{ name: 'CPU', values: [100 * browsers.cpu.chromiumCores, 100 * browsers.cpu.serverCores, 100 * browsers.cpu.workerCores] }], '%'),
	);
}
const forwarding = read<ForwardingResult>('forwarding.json');
if (forwarding) {
	const o = forwarding.options;
	const rows = forwarding.summary;
	const systems = o.systems;
	sections.push(
		`<h2>Forwarding cost: one ${esc(o.resolution)} H.264 stream (${n(forwarding.input.mbps, 1)} Mbit/s, ${n(forwarding.input.packetsPerSecond, 0)} packets/s) to N receivers, system on one core, median of ${o.reps} <small>(npm run bench:forwarding, ${esc(forwarding.date)})</small></h2>`,
		`<p>ours = our ingest + consumers with full WebRTC capabilities; ours-lean = codec-only consumers; janus = Janus 1.1.2 VideoRoom remote publisher + rtp_forward; floor = C relay, one sendmmsg per input packet. CPU per forwarded packet = the system's CPU (schedstat) / (input packets × N), ${o.seconds} s windows after ${o.warmup} s warm-up, pacing ${esc(o.pacing)}.</p>`,
		table(
			['N', 'packets/s out', ...systems.map((s) => `${s} µs/packet (worst loss %)`)],
			rows.map((r) => [r.n, n(r.packetsPerSecondOut, 0), ...systems.map((s) => `${n(r.systems[s]?.usPerPacket, 2)} (${n(r.systems[s]?.lossWorstPercent, 2)})`)]),
		),
		table(
			['N', 'ours/Janus', 'ours/floor', 'ours-lean/Janus', 'ours-lean/floor'],
			rows.map((r) => [r.n, n(r.ratios.oursToJanus, 2), n(r.ratios.oursToFloor, 2), n(r.ratios.oursLeanToJanus, 2), n(r.ratios.oursLeanToFloor, 2)]),
		),
		lines('CPU µs per forwarded packet vs receivers N (log–log)', rows.map((r) => r.n), systems.map((s) => ({ name: s, values: rows.map((r) => r.systems[s]?.usPerPacket ?? NaN) })), 'µs', { xUnit: 'receivers', logX: true, logY: true }),
		bars('Ratio of CPU per forwarded packet', rows.map((r) => `N = ${r.n}`), [
			{ name: 'ours/Janus', values: rows.map((r) => r.ratios.oursToJanus) },
			{ name: 'ours/floor', values: rows.map((r) => r.ratios.oursToFloor) },
			{ name: 'ours-lean/Janus', values: rows.map((r) => r.ratios.oursLeanToJanus) },
		], '×'),
	);
}
if (sections.length === 0) sections.push('<p>No results yet: run npm run bench:signaling, bench:grand-round or bench:churn first.</p>');
const html = `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>SFU load tests</title>
<style>body{font:14px system-ui,sans-serif;margin:2em;max-width:1000px}table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #ccc;padding:3px 8px;text-align:right}th{background:#f3f4f6}svg{display:block;margin:1em 0;font:12px system-ui,sans-serif}small{font-weight:normal;color:#666}</style>
</head><body><h1>SFU load tests (loopback, this machine)</h1>${sections.join('\n')}</body></html>`;
const out = path.join(RESULTS_DIR, 'report.html');
writeFileSync(out, html);
process.stdout.write(`written ${path.relative(process.cwd(), out)}\n`);
