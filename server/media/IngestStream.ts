import type { types } from 'mediasoup';
import type { IngestEndpointInfo } from '../protocol/index.js';
import type { ProducerAppData } from './PeerMedia.js';

/**
 * Where a device encoder sends one stream (push ingest), as the protocol
 * answers it; RTCP has its own port (ffmpeg sends it from another socket than RTP).
 */
export type IngestStreamEndpoint = IngestEndpointInfo['streams'][number];

export interface IngestEndpoint {
	streams: IngestStreamEndpoint[];
	/** Present when SRTP was asked for: the key the sender encrypts with. */
	srtp?: { cryptoSuite: 'AES_CM_128_HMAC_SHA1_80'; keyBase64: string };
}

/** What a device is expected to send. */
export interface IngestInput {
	kinds: types.MediaKind[];
	listenIp: string;
	announcedIp?: string;
	srtp: boolean;
	video: IngestStreamEndpoint['codec'];
	audio: IngestStreamEndpoint['codec'];
	rtp: { video: { payloadType: number; ssrc: number }; audio: { payloadType: number; ssrc: number } };
	/**
	 * The only sender accepted. With a port: the transport is connected to it
	 * (RTP from `port`, RTCP from `port + 1`) instead of learning the first
	 * sender (comedia), so mediasoup drops every other source. Without: the
	 * owner checks the learnt address (see `strayFrom`). Default: any sender.
	 */
	source?: { ip: string; port?: number };
}

interface StreamSpec {
	peerId: string;
	kind: types.MediaKind;
	input: IngestInput;
	srtpKey: string | null;
	/** Reopen on this port. */
	port?: number;
}

/**
 * One push-ingest stream: a PlainTransport and a producer that expects exactly the
 * advertised payload type and SSRC — anything else arriving on the port is
 * dropped by mediasoup. With SRTP, packets that do not decrypt are dropped
 * before the transport learns a sender (comedia), so a sender without the key
 * can never take the stream over. Owns both; close() releases them.
 */
export class IngestStream {
	readonly spec: StreamSpec;
	readonly transport: types.PlainTransport;
	readonly producer: types.Producer<ProducerAppData>;

	static async open(router: types.Router, spec: StreamSpec): Promise<IngestStream> {
		const { input, kind, srtpKey } = spec;
		const pinned = input.source?.port !== undefined ? { ip: input.source.ip, port: input.source.port } : undefined;
		const transport = await router.createPlainTransport({
			listenIp: { ip: input.listenIp, ...(input.announcedIp ? { announcedIp: input.announcedIp } : {}) },
			...(spec.port ? { port: spec.port } : {}),
			// Not multiplexed: a sender's RTCP often leaves from another socket than
			// its RTP, and a comedia transport locks onto whichever arrives first.
			rtcpMux: false,
			comedia: pinned === undefined,
			...(srtpKey ? { enableSrtp: true, srtpCryptoSuite: 'AES_CM_128_HMAC_SHA1_80' as const } : {}),
			appData: { peerId: spec.peerId, ingest: true },
		});
		try {
			if (srtpKey || pinned) {
				await transport.connect({
					...(pinned ? { ip: pinned.ip, port: pinned.port, rtcpPort: pinned.port + 1 } : {}),
					...(srtpKey ? { srtpParameters: { cryptoSuite: 'AES_CM_128_HMAC_SHA1_80' as const, keyBase64: srtpKey } } : {}),
				});
			}
			const codec = kind === 'video' ? input.video : input.audio;
			const { payloadType, ssrc } = input.rtp[kind];
			const producer = await transport.produce<ProducerAppData>({
				kind,
				rtpParameters: {
					codecs: [{ ...codec, payloadType, rtcpFeedback: kind === 'video' ? [{ type: 'nack' }, { type: 'nack', parameter: 'pli' }, { type: 'ccm', parameter: 'fir' }] : [] }],
					encodings: [{ ssrc }],
				},
				// A device encoder is asked for a key frame at most once a second,
				// however many viewers ask.
				keyFrameRequestDelay: 1000,
				appData: { peerId: spec.peerId, source: 'device' },
			});
			return new IngestStream({ ...spec, port: transport.tuple.localPort }, transport, producer);
		} catch (error) {
			transport.close();
			throw error;
		}
	}

	private constructor(spec: StreamSpec, transport: types.PlainTransport, producer: types.Producer<ProducerAppData>) {
		this.spec = spec;
		this.transport = transport;
		this.producer = producer;
	}

	get endpoint(): IngestStreamEndpoint {
		const { kind, input } = this.spec;
		const { payloadType, ssrc } = input.rtp[kind];
		return {
			kind,
			producerId: this.producer.id,
			ip: this.transport.tuple.localIp,
			port: this.transport.tuple.localPort,
			rtcpPort: this.transport.rtcpTuple?.localPort ?? this.transport.tuple.localPort,
			payloadType,
			ssrc,
			codec: kind === 'video' ? input.video : input.audio,
		};
	}

	/** Whether a sender's address has been learnt (comedia; a sender pinned by port is given, not learnt). */
	get senderKnown(): boolean {
		if (this.spec.input.source?.port !== undefined) return false;
		return this.transport.tuple.remotePort !== undefined && this.transport.tuple.remotePort !== 0;
	}

	/** The learnt sender's address when it is not the pinned one (an IP-only `source`), else null. */
	get strayFrom(): string | null {
		const pinnedIp = this.spec.input.source?.ip;
		if (!pinnedIp || this.spec.input.source?.port !== undefined || !this.senderKnown) return null;
		const remote = this.transport.tuple.remoteIp;
		return remote !== undefined && remote !== pinnedIp ? remote : null;
	}

	/** Closes this one and opens a fresh one on the same RTP port (the RTCP port may change). */
	async reopen(router: types.Router): Promise<IngestStream> {
		this.close();
		return IngestStream.open(router, this.spec);
	}

	close(): void {
		this.producer.close();
		this.transport.close();
	}
}
