import type { Page } from 'puppeteer-core';
import type { TestBrowser } from './browser.js';
import { openDemo, waitForMediaFrom, type DemoParticipant } from './demoPage.js';
import { TestNetwork, type LinkImpairment } from './netns.js';
import { waitFor } from './processes.js';
import { startServer, type ServerProcess } from './serverProcess.js';

/**
 * A consult on a weak link, over the real network stack: the SFU in a "data
 * centre" namespace, the clinician's Chromium on a clean clinic network, the
 * patient's Chromium behind a link the caller impairs (rate, loss, delay,
 * jitter, outages, an address change). Shared by the weak-link tests
 * (test/network/weakLinks.test.ts) and the benchmark (load-tests/weakLinks.ts),
 * which read the browsers' own WebRTC statistics through {@link sample}.
 */

/** The named link profiles (README, "Weak links"). Delay is the round trip added to the patient's media. */
export const WEAK_LINK_PROFILES = {
	clean: {},
	'district 4G': { downKbps: 2000, upKbps: 2000, rttMs: 60, lossPercent: 1 },
	'mountain link': { downKbps: 512, upKbps: 512, rttMs: 150, jitterMs: 30, lossPercent: 3 },
	'bad phone': { downKbps: 300, upKbps: 150, rttMs: 250, lossPercent: 5 },
} as const satisfies Record<string, LinkImpairment>;

export type WeakLinkProfileName = keyof typeof WEAK_LINK_PROFILES;

/** The profile the "outage" runs on before and after its 10 s of total loss. */
export const OUTAGE = { seconds: 10, impairment: { lossPercent: 100 } satisfies LinkImpairment };

export const WEBRTC_PORT = 44444;
const ROOM = 'weak-link-consult';
/** A phone in portrait (the patient's). */
export const PHONE_VIEWPORT = { width: 390, height: 844 };

/** One received track as the receiving browser reports it (raw counters, cumulative). */
export interface InboundSample {
	from: string;
	kind: 'audio' | 'video';
	source: string;
	/** The SDK paused it (weak link, audio only) or the sender muted it. */
	paused: boolean;
	muted: boolean;
	/** Simulcast layer the server forwards now (null: none). */
	spatialLayer: number | null;
	packetsReceived: number;
	packetsLost: number;
	bytesReceived: number;
	concealedSamples: number;
	silentConcealedSamples: number;
	totalSamplesReceived: number;
	framesDecoded: number;
	frameWidth: number;
	frameHeight: number;
	framesPerSecond: number;
	freezeCount: number;
	totalFreezesDuration: number;
}

/** Everything read from one page at one moment. */
export interface PageSample {
	at: number;
	state: string;
	peerId: string;
	inbound: InboundSample[];
	/** Round trip of this browser's selected candidate pair, seconds. */
	rtt: number | null;
	/** How this browser's media reaches the SFU ('udp' through the impaired link's relay, or 'tcp'). */
	mediaPath: string | null;
	/** This participant's own quality, and each remote participant's, as the SDK rates them. */
	ownQuality: string;
	quality: Record<string, string>;
	/** Outbound camera: width of the largest layer sent, and why the browser limits it. */
	sentWidth: number;
	limitation: string | null;
}

/** SDK events recorded in each page from the first moment (see {@link recordEvents}). */
export interface PageEvent {
	event: string;
	at: number;
	args: string[];
}

type EventWindow = { demo?: { room?: { on(event: string, listener: (...args: unknown[]) => void): void } }; TelehealthSDK?: { RoomEvent: Record<string, string> }; weakLog?: PageEvent[] };

/** Records the SDK's connection events in `page` from its first moment (`window.weakLog`). */
async function recordEvents(page: Page): Promise<void> {
	// tsx (esbuild keepNames) wraps named arrow functions in __name(): give the page one.
	await page.evaluateOnNewDocument('globalThis.__name = globalThis.__name || ((f) => f);');
	// Every peer connection's state changes, for diagnostics (`window.pcLog`).
	await page.evaluateOnNewDocument(`(() => {
		const Original = globalThis.RTCPeerConnection;
		let n = 0;
		globalThis.pcLog = [];
		globalThis.pcs = [];
		globalThis.RTCPeerConnection = class extends Original {
			constructor(...args) {
				super(...args);
				const id = ++n;
				this.__id = id;
				globalThis.pcs.push(this);
				this.addEventListener('connectionstatechange', () => globalThis.pcLog.push([id, this.connectionState, Date.now()]));
				this.addEventListener('iceconnectionstatechange', () => globalThis.pcLog.push([id, 'ice:' + this.iceConnectionState, Date.now()]));
				this.addEventListener('icegatheringstatechange', () => globalThis.pcLog.push([id, 'gather:' + this.iceGatheringState, Date.now()]));
				this.addEventListener('icecandidate', (e) => globalThis.pcLog.push([id, 'cand:' + (e.candidate ? e.candidate.candidate.split(' ').slice(2, 6).join(' ') : 'end'), Date.now()]));
			}
			async setRemoteDescription(d) {
				globalThis.pcLog.push([this.__id, 'setRemote:' + d.type, Date.now()]);
				return super.setRemoteDescription(d);
			}
		};
	})();`);
	await page.evaluateOnNewDocument(() => {
		const w = globalThis as unknown as EventWindow;
		w.weakLog = [];
		const hook = setInterval(() => {
			const room = w.demo?.room;
			if (!room || !w.TelehealthSDK) return;
			clearInterval(hook);
			const events = ['connectionQualityChanged', 'reconnecting', 'reconnected', 'waitingForAdmission', 'participantLeft', 'participantJoined', 'trackStreamStateChanged', 'disconnected'];
			for (const event of events) {
				room.on(event, (...args: unknown[]) =>
					w.weakLog!.push({ event, at: Date.now(), args: args.map((a) => (typeof a === 'object' && a !== null ? String((a as { id?: string }).id ?? (a as { kind?: string }).kind ?? '') : String(a))) }),
				);
			}
		}, 5);
	});
}

/** Reads one {@link PageSample} from a demo page. */
export function samplePage(page: Page): Promise<PageSample> {
	return page.evaluate(async () => {
		type Report = { forEach(cb: (s: Record<string, unknown>) => void): void };
		type Track = {
			kind: 'audio' | 'video';
			source: string;
			muted: boolean;
			streamState: string;
			currentLayers: { spatial: number | null };
			getRtcStats(): Promise<Report>;
		};
		type Participant = { id: string; connectionQuality: string; tracks: Map<string, Track> };
		type Stats = { direction: string; kind: string; source: string; frameWidth: number; qualityLimitationReason?: string };
		const w = globalThis as unknown as {
			demo: {
				state: string;
				room: { participants: Map<string, Participant>; localParticipant: { id: string; connectionQuality: string; mediaPath?: string }; getTrackStats(): Promise<Stats[]> };
			};
		};
		const room = w.demo.room;
		const num = (v: unknown): number => (typeof v === 'number' && Number.isFinite(v) ? v : 0);
		const inbound: InboundSample[] = [];
		let rtt: number | null = null;
		const quality: Record<string, string> = {};
		for (const participant of room.participants.values()) {
			quality[participant.id] = participant.connectionQuality;
			for (const track of participant.tracks.values()) {
				const s: InboundSample = {
					from: participant.id,
					kind: track.kind,
					source: track.source,
					paused: track.streamState === 'paused',
					muted: track.muted,
					spatialLayer: track.currentLayers.spatial,
					packetsReceived: 0,
					packetsLost: 0,
					bytesReceived: 0,
					concealedSamples: 0,
					silentConcealedSamples: 0,
					totalSamplesReceived: 0,
					framesDecoded: 0,
					frameWidth: 0,
					frameHeight: 0,
					framesPerSecond: 0,
					freezeCount: 0,
					totalFreezesDuration: 0,
				};
				const report = await track.getRtcStats().catch(() => undefined);
				report?.forEach((r) => {
					if (r['type'] === 'candidate-pair' && r['nominated'] === true && r['state'] === 'succeeded' && typeof r['currentRoundTripTime'] === 'number') rtt = r['currentRoundTripTime'];
					if (r['type'] !== 'inbound-rtp' || r['kind'] !== track.kind) return;
					s.packetsReceived += num(r['packetsReceived']);
					s.packetsLost += Math.max(0, num(r['packetsLost']));
					s.bytesReceived += num(r['bytesReceived']);
					s.concealedSamples += num(r['concealedSamples']);
					s.silentConcealedSamples += num(r['silentConcealedSamples']);
					s.totalSamplesReceived += num(r['totalSamplesReceived']);
					s.framesDecoded += num(r['framesDecoded']);
					s.frameWidth = Math.max(s.frameWidth, num(r['frameWidth']));
					s.frameHeight = Math.max(s.frameHeight, num(r['frameHeight']));
					s.framesPerSecond = Math.max(s.framesPerSecond, num(r['framesPerSecond']));
					s.freezeCount += num(r['freezeCount']);
					s.totalFreezesDuration += num(r['totalFreezesDuration']);
				});
				inbound.push(s);
			}
		}
		const camera = (await room.getTrackStats().catch(() => [] as Stats[])).find((t) => t.direction === 'outbound' && t.source === 'camera');
		return {
			at: Date.now(),
			state: w.demo.state,
			peerId: room.localParticipant.id,
			inbound,
			rtt,
			mediaPath: room.localParticipant.mediaPath ?? null,
			ownQuality: room.localParticipant.connectionQuality,
			quality,
			sentWidth: camera?.frameWidth ?? 0,
			limitation: camera?.qualityLimitationReason ?? null,
		};
	});
}

/** What one direction of the consult delivered over a window, from the receiving browser's stats. */
export interface DirectionResult {
	/** Audio samples concealed (lost or late, not silence), percent of those played. */
	audioConcealedPercent: number;
	audioLossPercent: number;
	audioKbps: number;
	/** Video frames decoded per second over the window. */
	videoFps: number;
	/** Median decoded resolution (0 when no frame). */
	videoWidth: number;
	videoHeight: number;
	videoKbps: number;
	videoLossPercent: number;
	freezeCount: number;
	/** Seconds of the window spent frozen (freezes as Chromium counts them). */
	freezeSeconds: number;
	/** Share of samples in which the receiver's video was paused (by the SDK) or not forwarded (no layer). */
	videoPausedShare: number;
	/** Median round trip of the patient's media path, ms. */
	rttMs: number;
	seconds: number;
}

/** The two directions: what the clinician receives from the patient (the patient's uplink), and the reverse. */
export interface ConsultResult {
	up: DirectionResult;
	down: DirectionResult;
}

/**
 * Reduces 1 Hz samples of a receiving page to one direction's result; `from`
 * is the sending participant, `patientRtt` the patient's samples (for RTT).
 */
export function reduceDirection(samples: PageSample[], from: string, patientRtt: PageSample[]): DirectionResult {
	const first = samples[0]!;
	const last = samples[samples.length - 1]!;
	const seconds = (last.at - first.at) / 1000;
	const track = (s: PageSample, kind: 'audio' | 'video'): InboundSample | undefined => s.inbound.find((t) => t.from === from && t.kind === kind && (kind === 'audio' ? t.source === 'microphone' : t.source === 'camera'));
	const delta = (kind: 'audio' | 'video', field: keyof InboundSample): number => {
		const a = track(first, kind);
		const b = track(last, kind);
		return Math.max(0, ((b?.[field] as number | undefined) ?? 0) - ((a?.[field] as number | undefined) ?? 0));
	};
	const lossPercent = (kind: 'audio' | 'video'): number => {
		const lost = delta(kind, 'packetsLost');
		const received = delta(kind, 'packetsReceived');
		return lost + received > 0 ? (100 * lost) / (lost + received) : 0;
	};
	const played = delta('audio', 'totalSamplesReceived');
	const concealed = delta('audio', 'concealedSamples') - delta('audio', 'silentConcealedSamples');
	const videos = samples.map((s) => track(s, 'video'));
	const decoding = videos.filter((v): v is InboundSample => !!v && v.frameWidth > 0);
	const paused = videos.filter((v) => !v || v.paused || v.spatialLayer === null).length;
	const rtts = patientRtt.map((s) => s.rtt).filter((r): r is number => r !== null);
	return {
		audioConcealedPercent: played > 0 ? (100 * Math.max(0, concealed)) / played : 100,
		audioLossPercent: lossPercent('audio'),
		audioKbps: (delta('audio', 'bytesReceived') * 8) / 1000 / seconds,
		videoFps: delta('video', 'framesDecoded') / seconds,
		videoWidth: median(decoding.map((v) => v.frameWidth)),
		videoHeight: median(decoding.map((v) => v.frameHeight)),
		videoKbps: (delta('video', 'bytesReceived') * 8) / 1000 / seconds,
		videoLossPercent: lossPercent('video'),
		freezeCount: delta('video', 'freezeCount'),
		freezeSeconds: delta('video', 'totalFreezesDuration'),
		videoPausedShare: paused / samples.length,
		rttMs: median(rtts) * 1000,
		seconds,
	};
}

function median(values: number[]): number {
	if (values.length === 0) return 0;
	const sorted = [...values].sort((a, b) => a - b);
	return sorted[Math.floor(sorted.length / 2)]!;
}

export interface WeakLinkConsultOptions {
	/** The room has a waiting room: the patient waits and the clinician (a host) admits it. Default true. */
	waitingRoom?: boolean;
	/** Extra server environment. */
	env?: Record<string, string>;
	/** Server log level. Default 'info' (startServer waits for its "server ready" line). */
	logLevel?: string;
}

/**
 * The consult: the network, the SFU (one worker), the clinician (host) and
 * the patient, each in its own Chromium, media flowing both ways.
 * `close()` removes everything, also after a failure half-way.
 */
export class WeakLinkConsult {
	readonly network: TestNetwork;
	readonly server: ServerProcess;
	readonly baseUrl: string;
	readonly clinician: DemoParticipant;
	readonly patient: DemoParticipant;
	readonly #browsers: TestBrowser[];

	private constructor(network: TestNetwork, server: ServerProcess, baseUrl: string, browsers: TestBrowser[], clinician: DemoParticipant, patient: DemoParticipant) {
		this.network = network;
		this.server = server;
		this.baseUrl = baseUrl;
		this.#browsers = browsers;
		this.clinician = clinician;
		this.patient = patient;
	}

	static async start(options: WeakLinkConsultOptions = {}): Promise<WeakLinkConsult> {
		const waitingRoom = options.waitingRoom ?? true;
		const network = await TestNetwork.create(['patient', 'clinic']);
		const browsers: TestBrowser[] = [];
		let server: ServerProcess | undefined;
		try {
			const ip = network.serverIp;
			server = await startServer(
				{
					HTTP_HOST: ip,
					WEBRTC_LISTEN_INFOS: `0.0.0.0/${ip}`,
					WEBRTC_PORT: String(WEBRTC_PORT),
					MEDIASOUP_NUM_WORKERS: '1',
					ROOM_WAITING_ROOM: String(waitingRoom),
					LOG_LEVEL: options.logLevel ?? 'info',
					...options.env,
				},
				30_000,
				network.wrapper(network.server),
			);
			const baseUrl = `http://${ip}:${server.port}`;
			await network.relayMedia('patient', WEBRTC_PORT);
			// getUserMedia needs a secure context; a plain-HTTP private address is not one by default.
			const secure = [`--unsafely-treat-insecure-origin-as-secure=${baseUrl}`];
			const clinicBrowser = await network.launchBrowser('clinic', secure);
			browsers.push(clinicBrowser);
			const patientBrowser = await network.launchBrowser('patient', secure);
			browsers.push(patientBrowser);
			const clinician = await openDemo(clinicBrowser, baseUrl, ROOM, 'host', { name: 'Dr Clinic', sub: 'clinician', viewport: { width: 1280, height: 760 }, beforeLoad: recordEvents });
			const patient = await openDemo(patientBrowser, baseUrl, ROOM, 'patient', {
				name: 'Patient',
				sub: 'patient',
				viewport: PHONE_VIEWPORT,
				beforeLoad: recordEvents,
				...(waitingRoom ? { waitState: 'waiting' } : {}),
			});
			if (waitingRoom) {
				await clinician.page.evaluate((id) => (globalThis as unknown as { demo: { room: { admit(id: string): Promise<void> } } }).demo.room.admit(id), patient.peerId);
				await patient.page.waitForFunction(() => (globalThis as unknown as { demo: { state: string } }).demo.state === 'joined', { timeout: 20_000 });
			}
			await waitForMediaFrom(clinician, patient, 30_000);
			await waitForMediaFrom(patient, clinician, 30_000);
			return new WeakLinkConsult(network, server, baseUrl, browsers, clinician, patient);
		} catch (error) {
			for (const browser of browsers) await browser.close().catch(() => undefined);
			await server?.stop().catch(() => undefined);
			await network.close();
			throw error;
		}
	}

	/** Impairs the patient's link (null: clean). */
	impair(impairment: LinkImpairment | null): Promise<void> {
		return this.network.impair('patient', impairment);
	}

	/** Both pages at once. */
	async sample(): Promise<{ clinician: PageSample; patient: PageSample }> {
		const [clinician, patient] = await Promise.all([samplePage(this.clinician.page), samplePage(this.patient.page)]);
		return { clinician, patient };
	}

	/** Samples both pages every second for `seconds` and reduces each direction. */
	async measure(seconds: number): Promise<ConsultResult & { samples: { clinician: PageSample; patient: PageSample }[] }> {
		const samples: { clinician: PageSample; patient: PageSample }[] = [];
		const end = Date.now() + seconds * 1000;
		// Bounded: one sample a second, each at most a few seconds on a loaded machine.
		for (let i = 0; i <= seconds + 1; i++) {
			samples.push(await this.sample());
			if (Date.now() >= end) break;
			await new Promise((resolve) => setTimeout(resolve, Math.min(1000, Math.max(0, end - Date.now()))));
		}
		const patientSamples = samples.map((s) => s.patient);
		return {
			up: reduceDirection(
				samples.map((s) => s.clinician),
				this.patient.peerId,
				patientSamples,
			),
			down: reduceDirection(patientSamples, this.clinician.peerId, patientSamples),
			samples,
		};
	}

	/** SDK events recorded in a page since it loaded. */
	events(who: 'clinician' | 'patient'): Promise<PageEvent[]> {
		return this[who].page.evaluate(() => (globalThis as unknown as EventWindow).weakLog ?? []);
	}

	/** Waits until `check` holds on fresh samples (polling about twice a second). */
	async until(check: (s: { clinician: PageSample; patient: PageSample }) => boolean, timeoutMs: number, what: string): Promise<{ clinician: PageSample; patient: PageSample }> {
		return waitFor(async () => {
			const s = await this.sample();
			if (check(s)) return s;
			await new Promise((resolve) => setTimeout(resolve, 400));
			return null;
		}, timeoutMs, what);
	}

	async close(): Promise<void> {
		for (const browser of this.#browsers) await browser.close().catch(() => undefined);
		await this.server.stop().catch(() => undefined);
		await this.network.close();
	}
}
