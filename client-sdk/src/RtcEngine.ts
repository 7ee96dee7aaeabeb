import { Device, type types } from 'mediasoup-client';
import type { ConsumeResponse, JoinedResponse, RequestOf, TransportParams } from './protocol.js';
import type { Source } from './types.js';
import { SdkError } from './SdkError.js';
import type { SignalClient } from './SignalClient.js';

export type Direction = 'send' | 'recv';

/** What the SDK stores in each producer's appData (read in the 'produce' handler). */
export interface ProducerAppData extends types.AppData {
	source: Source;
	paused: boolean;
}

/**
 * Owns the mediasoup-client Device and this participant's two WebRTC
 * transports, and speaks the transport half of the protocol (create,
 * connect, produce, restart ICE). Rooms and tracks live elsewhere.
 */
export class RtcEngine {
	readonly #signal: SignalClient;
	#device: Device | undefined;
	readonly #transports: Partial<Record<Direction, types.Transport>> = {};
	readonly #creating: Partial<Record<Direction, Promise<types.Transport>>> = {};
	/** When each transport started its first connection attempt, until it first connects. */
	readonly #connectingSince: Partial<Record<Direction, number>> = {};
	#relayOnly = false;
	/** The application asked for relay only ({@link RoomOptions.iceTransportPolicy}). */
	readonly #relayRequired: boolean;
	#turnAvailable = false;
	#closed = false;

	/** Called whenever a transport's connection state changes (ICE + DTLS). */
	onConnectionStateChange: ((direction: Direction, state: types.ConnectionState) => void) | undefined;

	constructor(signal: SignalClient, options: { iceTransportPolicy?: 'all' | 'relay' } = {}) {
		this.#signal = signal;
		this.#relayRequired = options.iceTransportPolicy === 'relay';
		this.#relayOnly = this.#relayRequired;
	}

	/** The loaded device, or throws. */
	get device(): Device {
		if (!this.#device?.loaded) throw new SdkError('client_invalid_state', 'the media device is not loaded yet');
		return this.#device;
	}

	/** True once the device is loaded with the router's capabilities. */
	get loaded(): boolean {
		return this.#device?.loaded ?? false;
	}

	/**
	 * Loads a new Device with the router's capabilities and returns this
	 * device's receive capabilities, to be sent with `setRtpCapabilities`.
	 * A Device loads only once, so a rebuilt session gets a fresh one.
	 */
	async load(routerRtpCapabilities: JoinedResponse['routerRtpCapabilities']): Promise<RequestOf<'setRtpCapabilities'>['rtpCapabilities']> {
		let device: Device;
		try {
			device = await Device.factory();
			await device.load({ routerRtpCapabilities: routerRtpCapabilities as unknown as types.RtpCapabilities });
		} catch (error) {
			throw new SdkError('unsupported', `this browser cannot use the media server: ${(error as Error).message}`, { cause: error });
		}
		if (this.#closed) throw new SdkError('closed', 'the room was closed');
		this.#device = device;
		return this.receiveCapabilities;
	}

	/** What this browser tells the server it can receive (`setRtpCapabilities`, `join`). */
	get receiveCapabilities(): RequestOf<'setRtpCapabilities'>['rtpCapabilities'] {
		return this.device.rtpCapabilities as unknown as RequestOf<'setRtpCapabilities'>['rtpCapabilities'];
	}

	/**
	 * True when every transport that has carried media is connected (a
	 * transport still 'new' has not been used yet and does not count).
	 */
	get mediaConnected(): boolean {
		return (['send', 'recv'] as const).every((d) => {
			const state = this.#transports[d]?.connectionState;
			return state === undefined || state === 'new' || state === 'connected';
		});
	}

	/** Connection state of the transport of `direction` (undefined: none). */
	connectionState(direction: Direction): types.ConnectionState | undefined {
		return this.#transports[direction]?.connectionState;
	}

	/** True when the server handed out at least one TURN server (a relay to fall back on). */
	get turnAvailable(): boolean {
		return this.#turnAvailable;
	}

	/**
	 * Transports created from now on gather only relay candidates
	 * (`iceTransportPolicy: 'relay'`): the way through when direct paths look
	 * open but do not carry media (a firewall that passes STUN, not DTLS).
	 */
	get relayOnly(): boolean {
		return this.#relayOnly;
	}

	set relayOnly(value: boolean) {
		this.#relayOnly = value || this.#relayRequired;
	}

	/**
	 * When the transport of `direction` began its first connection attempt,
	 * while it has never been connected; undefined otherwise.
	 */
	connectingSince(direction: Direction): number | undefined {
		return this.#connectingSince[direction];
	}

	/** The transport of `direction`, if one exists. */
	transport(direction: Direction): types.Transport | undefined {
		return this.#transports[direction];
	}

	/** The transport of `direction`, created on first use. */
	ensureTransport(direction: Direction): Promise<types.Transport> {
		const existing = this.#transports[direction];
		if (existing && !existing.closed) return Promise.resolve(existing);
		let creating = this.#creating[direction];
		if (!creating) {
			creating = this.#createTransport(direction).finally(() => {
				delete this.#creating[direction];
			});
			this.#creating[direction] = creating;
		}
		return creating;
	}

	/** Publishes a track on the send transport. */
	async produce(track: MediaStreamTrack, options: Omit<types.ProducerOptions<ProducerAppData>, 'track'>): Promise<types.Producer<ProducerAppData>> {
		const transport = await this.ensureTransport('send');
		if (!this.device.canProduce(track.kind as types.MediaKind)) {
			throw new SdkError('unsupported', `this browser cannot send ${track.kind} to this room`);
		}
		try {
			// The SDK owns track lifetimes: a republished track must survive its old producer.
			return await transport.produce<ProducerAppData>({ ...options, track, stopTracks: false });
		} catch (error) {
			throw SdkError.from(error, 'media_error');
		}
	}

	/** Receives a producer on the recv transport, from a `consume` answer. */
	async consume(answer: ConsumeResponse): Promise<types.Consumer> {
		const transport = await this.ensureTransport('recv');
		try {
			return await transport.consume({
				id: answer.id,
				producerId: answer.producerId,
				kind: answer.kind,
				rtpParameters: answer.rtpParameters as unknown as types.RtpParameters,
				appData: { peerId: answer.peerId, source: answer.source },
			});
		} catch (error) {
			throw SdkError.from(error, 'media_error');
		}
	}

	/**
	 * Restarts ICE on the transport of `direction` with fresh server
	 * parameters. Rejects with `not_found` when the server no longer has it.
	 */
	async restartIce(direction: Direction, timeoutMs?: number): Promise<void> {
		const transport = this.#transports[direction];
		if (!transport || transport.closed) return;
		const { iceParameters } = await this.#signal.request('restartIce', { transportId: transport.id }, timeoutMs);
		await transport.restartIce({ iceParameters });
	}

	/**
	 * Bytes received so far on the transport of `direction` (its DTLS/ICE
	 * transport: RTP and RTCP), or undefined when it has none or it is not
	 * connected. The watchdog reads it to see media stop on a path that ICE
	 * still calls connected.
	 */
	async bytesReceived(direction: Direction): Promise<{ transportId: string; received: number } | undefined> {
		const transport = this.#transports[direction];
		if (!transport || transport.closed || transport.connectionState !== 'connected') return undefined;
		const report = await transport.getStats();
		let received = 0;
		report.forEach((s: { type: string; bytesReceived?: unknown }) => {
			if (s.type === 'transport' && typeof s.bytesReceived === 'number') received += s.bytesReceived;
		});
		return { transportId: transport.id, received };
	}

	/** Closes the transport of `direction` locally (its producers/consumers close with it). */
	dropTransport(direction: Direction): void {
		this.#transports[direction]?.close();
		delete this.#transports[direction];
		delete this.#connectingSince[direction];
	}

	/** Closes both transports; the next session loads a new device. */
	reset(): void {
		this.dropTransport('send');
		this.dropTransport('recv');
		this.#device = undefined;
	}

	/** Closes everything. Idempotent. */
	close(): void {
		if (this.#closed) return;
		this.#closed = true;
		this.reset();
	}

	async #createTransport(direction: Direction): Promise<types.Transport> {
		const device = this.device;
		const params = await this.#signal.request('createTransport', { direction });
		if (this.#closed) throw new SdkError('closed', 'the room was closed');
		this.#turnAvailable = params.iceServers.some((server) => [server.urls].flat().some((url) => /^turns?:/.test(url)));
		const options = toTransportOptions(params, this.#relayOnly && this.#turnAvailable);
		const transport = direction === 'send' ? device.createSendTransport(options) : device.createRecvTransport(options);
		transport.on('connect', ({ dtlsParameters }, callback, errback) => {
			this.#signal
				.request('connectTransport', { transportId: transport.id, dtlsParameters })
				.then(() => callback(), errback);
		});
		if (direction === 'send') {
			transport.on('produce', ({ kind, rtpParameters, appData }, callback, errback) => {
				const { source, paused } = appData as ProducerAppData;
				this.#signal
					.request('produce', {
						transportId: transport.id,
						kind,
						rtpParameters: rtpParameters as unknown as RequestOf<'produce'>['rtpParameters'],
						source,
						paused,
					})
					.then(callback, errback);
			});
		}
		let everConnected = false;
		transport.on('connectionstatechange', (state) => {
			if (this.#closed || this.#transports[direction] !== transport) return;
			if (state === 'connected') {
				everConnected = true;
				delete this.#connectingSince[direction];
			} else if (!everConnected && state !== 'new' && this.#connectingSince[direction] === undefined) {
				this.#connectingSince[direction] = Date.now();
			}
			this.onConnectionStateChange?.(direction, state);
		});
		this.#transports[direction] = transport;
		return transport;
	}
}

function toTransportOptions(params: TransportParams, relayOnly: boolean): types.TransportOptions {
	return {
		iceTransportPolicy: relayOnly ? 'relay' : 'all',
		id: params.id,
		iceParameters: params.iceParameters,
		// mediasoup-client wants `address`; mediasoup 3.12 sends only `ip`.
		iceCandidates: params.iceCandidates.map((c) => ({ ...c, address: c.ip })),
		dtlsParameters: params.dtlsParameters,
		iceServers: params.iceServers,
	};
}
