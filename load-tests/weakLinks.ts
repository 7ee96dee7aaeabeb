/**
 * Weak links: a consult whose patient sits behind an impaired network, over
 * the real network stack (network namespaces, tbf, nftables, a delay relay;
 * test/support/netns.ts), measured from the browsers' own WebRTC statistics.
 *
 *   npm run bench:weak-links [-- --profiles "district 4G,mountain link,bad phone,outage" --settle 12 --measure 20]
 *
 * Needs root (network namespaces). One SFU (one worker) in a "data centre"
 * namespace; the clinician's Chromium on a clean clinic network; the
 * patient's Chromium (a phone-sized page) behind its own link. For each
 * profile: the link is impaired, left `settle` seconds for the SDK and both
 * bandwidth estimators to adapt, then both browsers are sampled once a second
 * for `measure` seconds; the link is then clean again for `recover` seconds
 * before the next profile. "outage" drops everything for 10 s and measures how
 * long media and full quality take to come back. Prints one table row per
 * profile and direction; writes load-tests/results/weak-links.json. Bounded:
 * every wait has a deadline; everything it started is removed at the end,
 * also on failure.
 */
import { parseArgs } from 'node:util';
import { setTimeout as sleep } from 'node:timers/promises';
import { TestNetwork } from '../test/support/netns.js';
import { OUTAGE, WEAK_LINK_PROFILES, WeakLinkConsult, type ConsultResult, type PageSample, type WeakLinkProfileName } from '../test/support/weakLink.js';
import { fmt, writeResult } from './lib/measure.js';
import type { WeakLinksResult } from './lib/results.js';

const { values } = parseArgs({
	options: {
		profiles: { type: 'string', default: 'clean,district 4G,mountain link,bad phone,outage' },
		settle: { type: 'string', default: '20' },
		measure: { type: 'string', default: '20' },
		recover: { type: 'string', default: '10' },
	},
});
const settleS = Math.min(60, Math.max(2, Number(values.settle)));
const measureS = Math.min(120, Math.max(5, Number(values.measure)));
const recoverS = Math.min(60, Math.max(0, Number(values.recover)));
const names = values.profiles
	.split(',')
	.map((p) => p.trim())
	.filter(Boolean);
for (const name of names) {
	if (name !== 'outage' && !(name in WEAK_LINK_PROFILES)) {
		console.error(`unknown profile "${name}"; known: ${[...Object.keys(WEAK_LINK_PROFILES), 'outage'].join(', ')}`);
		process.exit(2);
	}
}

const reason = await TestNetwork.unavailableReason();
if (reason) {
	console.error(`weak links: cannot build the test network here (${reason})`);
	process.exit(2);
}

/** After an outage: seconds from the link's return to media and to full quality, per direction. */
interface Recovery {
	mediaS: number | null;
	fullQualityS: number | null;
	widthBefore: number;
}

const rows: { profile: string; result: ConsultResult }[] = [];
const recoveries: { up: Recovery; down: Recovery }[] = [];
const startedAt = Date.now();
console.log(`weak links: ${names.join(', ')} (settle ${settleS} s, measure ${measureS} s, recover ${recoverS} s)`);
const consult = await WeakLinkConsult.start();
// Stopped from outside (Ctrl-C, a CI timeout): still remove the namespaces and what runs in them.
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
	process.once(signal, () => {
		console.error(`weak links: ${signal}, cleaning up`);
		void consult.close().finally(() => process.exit(130));
	});
}
try {
	await sleep(5000);
	for (const name of names) {
		if (name === 'outage') {
			recoveries.push(await outage());
		} else {
			const profile = WEAK_LINK_PROFILES[name as WeakLinkProfileName];
			await consult.impair(profile);
			await sleep(settleS * 1000);
			const result = await consult.measure(measureS);
			rows.push({ profile: name, result });
			console.log(`  ${name}: measured`);
		}
		await consult.impair(null);
		await sleep(recoverS * 1000);
	}
} finally {
	await consult.close();
}

const header = '| profile | direction | audio concealed | audio loss | video | fps | freezes (n / s) | video paused | video kbit/s | RTT |';
console.log(`\n${header}\n|---|---|---|---|---|---|---|---|---|---|`);
for (const { profile, result } of rows) {
	for (const [direction, r] of [
		['patient → clinician', result.up],
		['clinician → patient', result.down],
	] as const) {
		console.log(
			`| ${profile} | ${direction} | ${fmt(r.audioConcealedPercent, 2)} % | ${fmt(r.audioLossPercent, 1)} % | ${r.videoWidth}x${r.videoHeight} | ${fmt(r.videoFps, 1)} | ${r.freezeCount} / ${fmt(r.freezeSeconds, 1)} | ${fmt(100 * r.videoPausedShare, 0)} % | ${fmt(r.videoKbps, 0)} | ${fmt(r.rttMs, 0)} ms |`,
		);
	}
}
for (const recovery of recoveries) {
	console.log(`\noutage (${OUTAGE.seconds} s of 100 % loss, then clean):`);
	for (const [direction, r] of [
		['patient → clinician', recovery.up],
		['clinician → patient', recovery.down],
	] as const) {
		console.log(`  ${direction}: media back after ${r.mediaS === null ? 'never' : `${fmt(r.mediaS, 1)} s`}, full quality (≥ ${r.widthBefore} px wide) after ${r.fullQualityS === null ? 'never' : `${fmt(r.fullQualityS, 1)} s`}`);
	}
}
const file = writeResult('weak-links.json', {
	startedAt: new Date(startedAt).toISOString(),
	settleS,
	measureS,
	profiles: rows.map(({ profile, result }) => ({ profile, impairment: profile in WEAK_LINK_PROFILES ? WEAK_LINK_PROFILES[profile as WeakLinkProfileName] : {}, up: result.up, down: result.down })),
	outages: recoveries,
} satisfies WeakLinksResult);
console.log(`\nwrote ${file}`);

/** 10 s of total loss on a clean link; then how long until media, and full quality, are back. */
async function outage(): Promise<{ up: Recovery; down: Recovery }> {
	const widthOf = (s: PageSample, from: string): number => s.inbound.find((t) => t.from === from && t.kind === 'video')?.frameWidth ?? 0;
	const framesOf = (s: PageSample, from: string): number => s.inbound.find((t) => t.from === from && t.kind === 'video')?.framesDecoded ?? 0;
	const audioOf = (s: PageSample, from: string): number => s.inbound.find((t) => t.from === from && t.kind === 'audio')?.packetsReceived ?? 0;
	// Start from full quality both ways (the top layer), as a consult on a good link has it.
	const before = await consult
		.until((s) => widthOf(s.clinician, consult.patient.peerId) >= 1280 && widthOf(s.patient, consult.clinician.peerId) >= 1280, 60_000, 'full quality before the outage')
		.catch(() => consult.sample());
	const up: Recovery = { mediaS: null, fullQualityS: null, widthBefore: widthOf(before.clinician, consult.patient.peerId) };
	const down: Recovery = { mediaS: null, fullQualityS: null, widthBefore: widthOf(before.patient, consult.clinician.peerId) };
	await consult.impair(OUTAGE.impairment);
	await sleep(OUTAGE.seconds * 1000);
	const cut = await consult.sample();
	await consult.impair(null);
	const restoredAt = Date.now();
	// Sample until both directions are back at full quality, at most 60 s.
	let last = cut;
	while (Date.now() - restoredAt < 60_000 && (up.fullQualityS === null || down.fullQualityS === null)) {
		const now = await consult.sample();
		const at = (now.patient.at - restoredAt) / 1000;
		const patientId = consult.patient.peerId;
		const clinicianId = consult.clinician.peerId;
		// Media: new frames and new audio, compared with the previous sample (ids may change on a rebuilt session).
		if (up.mediaS === null && framesOf(now.clinician, patientId) > framesOf(last.clinician, patientId) && audioOf(now.clinician, patientId) > audioOf(last.clinician, patientId)) up.mediaS = at;
		if (down.mediaS === null && framesOf(now.patient, clinicianId) > framesOf(last.patient, clinicianId) && audioOf(now.patient, clinicianId) > audioOf(last.patient, clinicianId)) down.mediaS = at;
		if (up.mediaS !== null && up.fullQualityS === null && widthOf(now.clinician, patientId) >= up.widthBefore) up.fullQualityS = at;
		if (down.mediaS !== null && down.fullQualityS === null && widthOf(now.patient, clinicianId) >= down.widthBefore) down.fullQualityS = at;
		last = now;
		await sleep(250);
	}
	return { up, down };
}


