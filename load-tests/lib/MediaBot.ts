/**
 * A media bot: one participant speaking the real signaling protocol
 * (socket.io-client) with a real WebRTC stack (werift: ICE, DTLS, SRTP,
 * RTCP, NACK, transport-cc feedback) instead of a browser tab. It sends the
 * shared pre-encoded clip of its process's MediaFeed (no encoder per bot) and
 * receives what it consumes without decoding it: it counts packets, loss
 * (RFC 3550: expected − received), bytes, and the time to the first packet and
 * to the first key frame (the first moment a decoder could show a picture).
 */
import dgram from 'node:dgram';
import { classes, Message, methods, parseMessage, RTCPeerConnection, MediaStreamTrack, useH264, useOPUS, useNACK, usePLI, useTWCC, useSdesMid, useTransportWideCC, type RtpPacket } from 'werift';
import type { ConsumeResponse, JoinResponse, ProducerInfo, TransportParams } from '../../server/protocol/index.js';
import { TestClient } from '../../test/support/sfu.js';
import { localDtlsParameters, producerParameters, remoteSdp, type RemoteSection } from './botSdp.js';
import { MAX_FEED_DELAY_MS, type MediaFeed } from './MediaFeed.js';

export interface MediaBotOptions {
	url: string;
	token: string;
	/** Kinds this bot publishes from the feed (none: watch only). */
	publish: ('audio' | 'video')[];
	feed: MediaFeed | null;
	/** Which of the room's producers to consume (default: all). */
	consume?: (producer: ProducerInfo) => boolean;
	/**
	 * Receive side: apply the local answer (which starts ICE) before `connectTransport`, as
	 * WebRTC stacks other than mediasoup-client do. Default false: mediasoup-client's order.
	 */
	connectAfterAnswer?: boolean;
}

/** What one received track saw. */
export interface TrackReport {
	kind: 'audio' | 'video';
	/** From learning of the producer to its first RTP packet / first key frame, ms. */
	firstPacketMs: number | null;
	firstKeyFrameMs: number | null;
	packets: number;
	lost: number;
	bytes: number;
	/** Receive window, ms (first to last packet). */
	spanMs: number;
}

export interface BotReport {
	connectMs: number;
	joinMs: number;
	/** From join answered to every kind produced, ms (null when watch only). */
	publishMs: number | null;
	tracks: TrackReport[];
	errors: string[];
}

const H264_MIME = 'video/H264';
const OPUS_MIME = 'audio/opus';

/** werift's side: one codec per kind, the feedback and extensions a browser uses. */
const peerConfig = () => ({
	codecs: {
		audio: [useOPUS()],
		// Constrained Baseline first (what the bots send); Main too, which device ingests send.
		video: ['42e01f', '4d0032'].map((profile) =>
			useH264({ rtcpFeedback: [useNACK(), usePLI(), useTWCC()], parameters: `profile-level-id=${profile};packetization-mode=1;level-asymmetry-allowed=1` }),
		),
	},
	headerExtensions: { audio: [useSdesMid()], video: [useSdesMid(), useTransportWideCC()] },
	iceUseIpv6: false,
	// Loopback only: bound there, and offered there (werift skips loopback when it enumerates
	// interfaces; a pair over another interface costs a 5 s check timeout now and then).
	iceInterfaceAddresses: { udp4: '127.0.0.1' },
	iceAdditionalHostAddresses: ['127.0.0.1'],
});

/**
 * werift leaves its UDP sockets at the kernel's default receive buffer (208 KiB here): a bot
 * process that stalls for a few ms while a hundred peers' packets arrive would drop them in the
 * kernel and report loss the SFU did not cause. Its sockets get 4 MiB (net.core.rmem_max here).
 */
const createSocket = dgram.createSocket;
/**
 * Every socket werift opens in this process. werift 0.24's close() leaves one UDP socket per
 * peer connection open (ICE gathers twice on loopback here), so they are unref'd — a closed
 * bot never keeps its process alive — and closeBotSockets() ends whatever is left.
 */
const botSockets = new Set<dgram.Socket>();
(dgram as { createSocket: unknown }).createSocket = (options: dgram.SocketType | dgram.SocketOptions, callback?: (msg: Buffer, rinfo: dgram.RemoteInfo) => void) => {
	const socket = createSocket({ recvBufferSize: 4 * 2 ** 20, ...(typeof options === 'string' ? { type: options } : options) }, callback);
	botSockets.add(socket);
	socket.once('close', () => botSockets.delete(socket));
	socket.once('listening', () => socket.unref());
	return socket;
};

/** Closes every UDP socket werift left open in this process: call once all bots are closed. */
export function closeBotSockets(): void {
	for (const socket of botSockets) {
		try {
			socket.close();
		} catch {
			// Already closing.
		}
	}
	botSockets.clear();
	loopbackStun = null;
}

/**
 * werift's ICE agent always asks a STUN server for a reflexive candidate, by default one on
 * the internet: here that lookup fails, sometimes only after the resolver's 5 s timeout, and
 * holds up candidate gathering. Each bot process answers those queries itself on loopback.
 */
let loopbackStun: Promise<number> | null = null;
function loopbackStunPort(): Promise<number> {
	loopbackStun ??= new Promise((resolve) => {
		const socket = dgram.createSocket('udp4');
		socket.on('message', (data, from) => {
			const request = parseMessage(data);
			if (request?.messageMethod !== methods.BINDING || request.messageClass !== classes.REQUEST) return;
			const response = new Message(methods.BINDING, classes.RESPONSE, request.transactionId).setAttribute('XOR-MAPPED-ADDRESS', [from.address, from.port]);
			socket.send(response.bytes, from.port, from.address);
		});
		socket.bind(0, '127.0.0.1', () => {
			socket.unref();
			resolve(socket.address().port);
		});
	});
	return loopbackStun;
}

async function newPeerConnection(): Promise<RTCPeerConnection> {
	return new RTCPeerConnection({ ...peerConfig(), iceServers: [{ urls: `stun:127.0.0.1:${await loopbackStunPort()}` }] });
}

/** The bot's receive capabilities, cut from the router's: Opus and H.264 (Constrained Baseline, Main) without RTX. */
function botRtpCapabilities(router: Extract<JoinResponse, { waiting: false }>['routerRtpCapabilities']) {
	const feedback = new Set(['nack', 'nack pli', 'ccm fir', 'transport-cc']);
	const codecs = (router.codecs ?? [])
		.filter(
			(c) =>
				c.mimeType.toLowerCase() === OPUS_MIME.toLowerCase() ||
				(c.mimeType.toLowerCase() === H264_MIME.toLowerCase() &&
					['42e01f', '4d0032'].includes(String(c.parameters?.['profile-level-id'])) &&
					Number(c.parameters?.['packetization-mode']) === 1),
		)
		.map((c) => ({ ...c, rtcpFeedback: (c.rtcpFeedback ?? []).filter((fb) => feedback.has(`${fb.type}${fb.parameter ? ` ${fb.parameter}` : ''}`)) }));
	const headerExtensions = (router.headerExtensions ?? []).filter(
		(e) => e.uri === 'urn:ietf:params:rtp-hdrext:sdes:mid' || (e.kind === 'video' && e.uri === 'http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01'),
	);
	return { codecs, headerExtensions };
}

function isKeyFrame(payload: Buffer): boolean {
	if (payload.length < 2) return false;
	const type = payload[0]! & 0x1f;
	if (type === 5 || type === 7) return true;
	if (type === 24) return payload.length > 3 && [5, 7].includes(payload[3]! & 0x1f); // STAP-A: first aggregated NAL
	if (type === 28) return (payload[1]! & 0x80) !== 0 && (payload[1]! & 0x1f) === 5; // FU-A start of an IDR
	return false;
}

class ReceivedTrack {
	private firstPacketAt: number | null = null;
	private firstKeyFrameAt: number | null = null;
	private lastPacketAt = 0;
	private baseSeq = -1;
	private maxSeq = 0;
	private cycles = 0;
	packets = 0;
	bytes = 0;

	constructor(
		readonly kind: 'audio' | 'video',
		private readonly knownAt: number,
	) {}

	onPacket(rtp: RtpPacket, now: number): void {
		const seq = rtp.header.sequenceNumber;
		if (this.baseSeq < 0) {
			this.baseSeq = seq;
			this.maxSeq = seq;
			this.firstPacketAt = now;
		} else if (seq !== this.maxSeq) {
			const delta = (seq - this.maxSeq + 0x10000) % 0x10000;
			if (delta < 0x8000) {
				if (seq < this.maxSeq) this.cycles += 0x10000;
				this.maxSeq = seq;
			}
		}
		this.packets++;
		this.bytes += rtp.payload.length;
		this.lastPacketAt = now;
		if (this.firstKeyFrameAt === null && (this.kind === 'audio' || isKeyFrame(rtp.payload))) this.firstKeyFrameAt = now;
	}

	report(): TrackReport {
		const expected = this.baseSeq < 0 ? 0 : this.cycles + this.maxSeq - this.baseSeq + 1;
		return {
			kind: this.kind,
			firstPacketMs: this.firstPacketAt === null ? null : this.firstPacketAt - this.knownAt,
			firstKeyFrameMs: this.firstKeyFrameAt === null ? null : this.firstKeyFrameAt - this.knownAt,
			packets: this.packets,
			lost: Math.max(0, expected - this.packets),
			bytes: this.bytes,
			spanMs: this.firstPacketAt === null ? 0 : this.lastPacketAt - this.firstPacketAt,
		};
	}
}

export class MediaBot {
	private readonly client: TestClient;
	private readonly options: MediaBotOptions;
	private readonly timings: { connectMs: number; joinMs: number; publishMs: number | null };
	private readonly bySsrc = new Map<number, ReceivedTrack>();
	private readonly byConsumer = new Map<string, RemoteSection>();
	/** Producers asked for already (the join answer and notifications may both name one). */
	private readonly consumed = new Set<string>();
	private readonly tracks: ReceivedTrack[] = [];
	private readonly errors: string[] = [];
	private readonly unsubscribe: (() => void)[] = [];
	private readonly peers: RTCPeerConnection[] = [];
	private recv: { transport: TransportParams; pc: RTCPeerConnection; sections: RemoteSection[]; version: number; connected: boolean } | null = null;
	/** Negotiations of the receive side, one at a time (each is a new offer/answer). */
	private queue: Promise<void> = Promise.resolve();
	private closed = false;

	private constructor(client: TestClient, options: MediaBotOptions, timings: MediaBot['timings']) {
		this.client = client;
		this.options = options;
		this.timings = timings;
	}

	/** Connects, joins, starts consuming the room and publishing; resolves once published. */
	static async start(options: MediaBotOptions): Promise<MediaBot> {
		const t0 = performance.now();
		const client = await TestClient.connect(options.url, { token: options.token });
		const t1 = performance.now();
		let bot: MediaBot | null = null;
		try {
			const joined = await client.ok('join', { protocolVersion: 1 });
			const t2 = performance.now();
			if (joined.waiting) throw new Error('bot parked in the waiting room');
			await client.ok('setRtpCapabilities', { rtpCapabilities: botRtpCapabilities(joined.routerRtpCapabilities) });
			bot = new MediaBot(client, options, { connectMs: t1 - t0, joinMs: t2 - t1, publishMs: null });
			const socket = client.socket as unknown as { on(event: string, listener: (data: never) => void): void };
			socket.on('producerNew', (data: { producer: ProducerInfo }) => bot!.consume(data.producer));
			socket.on('consumerClosed', (data: { consumerId: string }) => bot!.consumerClosed(data.consumerId));
			// Producers from the join answer, and any announced between the answer and the
			// listener above (TestClient records every notification since connecting).
			for (const producer of joined.peers.flatMap((p) => p.producers)) bot.consume(producer);
			for (const n of client.notifications) if (n.name === 'producerNew') bot.consume(n.data.producer);
			if (options.publish.length > 0) {
				await bot.publish();
				bot.timings.publishMs = performance.now() - t2;
			}
			return bot;
		} catch (error) {
			if (bot) await bot.close();
			else client.close();
			throw error;
		}
	}

	report(): BotReport {
		return { ...this.timings, tracks: this.tracks.map((t) => t.report()), errors: [...this.errors] };
	}

	/** Hangs up (`leave`, so the server does not hold the peer for a resume) and closes both peer connections. */
	async close(): Promise<void> {
		if (this.closed) return;
		this.closed = true;
		for (const unsubscribe of this.unsubscribe) unsubscribe();
		if (this.client.socket.connected) await this.client.request('leave', {}, 2000).catch(() => undefined);
		this.client.close();
		await Promise.all(this.peers.map((pc) => pc.close().catch(() => undefined)));
	}

	private consume(producer: ProducerInfo): void {
		if (this.consumed.has(producer.id) || (this.options.consume && !this.options.consume(producer))) return;
		this.consumed.add(producer.id);
		const knownAt = performance.now();
		this.enqueue(async () => {
			const recv = this.recv ?? (await this.createRecv());
			const consumer: ConsumeResponse = await this.client.ok('consume', { producerId: producer.id });
			const section: RemoteSection = { mid: consumer.rtpParameters.mid!, kind: consumer.kind, direction: 'sendonly', rtpParameters: consumer.rtpParameters };
			recv.sections.push(section);
			this.byConsumer.set(consumer.id, section);
			const track = new ReceivedTrack(consumer.kind, knownAt);
			this.tracks.push(track);
			this.bySsrc.set(consumer.rtpParameters.encodings![0]!.ssrc!, track);
			await this.negotiateRecv(recv);
			await this.client.ok('resumeConsumer', { consumerId: consumer.id });
		}, `consume ${producer.kind}`);
	}

	private consumerClosed(consumerId: string): void {
		const section = this.byConsumer.get(consumerId);
		if (!section || !this.recv) return;
		this.byConsumer.delete(consumerId);
		section.closed = true;
		const recv = this.recv;
		this.enqueue(() => this.negotiateRecv(recv), 'consumer closed');
	}

	private enqueue(step: () => Promise<void>, what: string): void {
		this.queue = this.queue.then(step).catch((error: Error) => {
			if (!this.closed) this.errors.push(`${what}: ${error.message}`);
		});
	}

	private async createRecv(): Promise<NonNullable<MediaBot['recv']>> {
		const transport = await this.client.ok('createTransport', { direction: 'recv' });
		const pc = await newPeerConnection();
		this.peers.push(pc);
		const seen = new Set<string>();
		pc.onTrack.subscribe((track) => {
			if (seen.has(track.uuid)) return;
			seen.add(track.uuid);
			const { unSubscribe } = track.onReceiveRtp.subscribe((rtp) => this.bySsrc.get(rtp.header.ssrc)?.onPacket(rtp, performance.now()));
			this.unsubscribe.push(unSubscribe);
		});
		this.recv = { transport, pc, sections: [], version: 0, connected: false };
		return this.recv;
	}

	private async negotiateRecv(recv: NonNullable<MediaBot['recv']>): Promise<void> {
		await recv.pc.setRemoteDescription({ type: 'offer', sdp: remoteSdp(recv.transport, recv.sections, 'actpass', ++recv.version) });
		const answer = await recv.pc.createAnswer();
		// mediasoup-client connects before applying the answer (which starts ICE); other stacks
		// connect after, when on loopback ICE has completed and the server already runs DTLS.
		const connect = async (): Promise<void> => {
			if (recv.connected) return;
			recv.connected = true;
			await this.client.ok('connectTransport', { transportId: recv.transport.id, dtlsParameters: localDtlsParameters(answer.sdp) });
		};
		if (!this.options.connectAfterAnswer) await connect();
		await recv.pc.setLocalDescription(answer);
		if (this.options.connectAfterAnswer) await connect();
	}

	private async publish(): Promise<void> {
		const feed = this.options.feed;
		if (!feed) throw new Error('a publishing bot needs a media feed');
		const pc = await newPeerConnection();
		this.peers.push(pc);
		// Each bot at its own point of the clip, so that key frames do not all leave at once.
		const delayMs = Math.random() * MAX_FEED_DELAY_MS;
		const transceivers = this.options.publish.map((kind) => {
			const track = new MediaStreamTrack({ kind });
			this.unsubscribe.push(feed.subscribe(kind, (packet) => track.writeRtp(packet), delayMs));
			return { kind, transceiver: pc.addTransceiver(track, { direction: 'sendonly' }) };
		});
		const offer = await pc.createOffer();
		await pc.setLocalDescription(offer);
		const local = pc.localDescription!.sdp;
		const transport = await this.client.ok('createTransport', { direction: 'send' });
		await this.client.ok('connectTransport', { transportId: transport.id, dtlsParameters: localDtlsParameters(local) });
		const sections: RemoteSection[] = transceivers.map(({ kind, transceiver }) => ({
			mid: transceiver.mid!,
			kind,
			direction: 'recvonly',
			rtpParameters: producerParameters(local, transceiver.mid!, kind === 'video' ? H264_MIME : OPUS_MIME),
		}));
		await pc.setRemoteDescription({ type: 'answer', sdp: remoteSdp(transport, sections, 'passive', 1) });
		for (const section of sections) {
			await this.client.ok('produce', {
				transportId: transport.id,
				kind: section.kind,
				rtpParameters: section.rtpParameters,
				source: section.kind === 'video' ? 'camera' : 'microphone',
			});
		}
	}
}
