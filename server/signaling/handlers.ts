import type { z } from 'zod';
import { AuthError, canModerate, type JoinClaims, type TokenVerifier } from '../auth/index.js';
import type { IngestService } from '../ingest/index.js';
import type { RecordingService } from '../recording/index.js';
import { SfuError, PROTOCOL_VERSION, type RequestMethod, type RequestSchemas, type ResponseOf, type TransportParams } from '../protocol/index.js';
import { admitPeer, denyPeer, endRoom, mutePeer, removePeer, type Peer, type PeerChannel, type Room, type RoomControl, type RoomRegistry } from '../rooms/index.js';

/** What one socket's requests act on. */
export interface SessionContext {
	/** The session's current token claims (replaced by refreshToken). */
	claims: JoinClaims;
	readonly verifier: TokenVerifier;
	/** (Re)arms the end of the session at the token's expiry. */
	readonly armExpiry: () => void;
	readonly channel: PeerChannel;
	readonly rooms: RoomRegistry;
	/** Host actions on participants, wherever they are connected. */
	readonly control: RoomControl;
	/** Waiting-room default for rooms this session creates. */
	readonly defaultWaitingRoom: boolean;
	/** ICE servers handed to clients with each transport (TURN lands here). */
	readonly iceServers: () => TransportParams['iceServers'];
	readonly ingest: IngestService;
	/** Null when this node records nothing (no ffmpeg). */
	readonly recordings: RecordingService | null;
	room: Room | null;
	peer: Peer | null;
}

function recordingsOf(ctx: SessionContext): RecordingService {
	if (!ctx.recordings) throw new SfuError('unavailable', 'recording is not available on this server');
	return ctx.recordings;
}

type Payload<M extends RequestMethod> = z.output<(typeof RequestSchemas)[M]>;
type Handler<M extends RequestMethod> = (ctx: SessionContext, payload: Payload<M>) => Promise<ResponseOf<M>>;

/** The session's room and admitted peer, or the reason there is none. */
function joined(ctx: SessionContext): { room: Room; peer: Peer } {
	if (!ctx.room || !ctx.peer || ctx.peer.state === 'closed') throw new SfuError('not_joined', 'join the room first');
	if (ctx.room.closed) throw new SfuError('room_closed', 'the room has closed');
	if (ctx.peer.state === 'waiting') throw new SfuError('waiting_for_admission', 'wait for the host to admit you');
	return { room: ctx.room, peer: ctx.peer };
}

const OK = {} as Record<string, never>;

/**
 * One thin handler per request: state and permission checks live in the
 * room layer; these only route the validated payload to it.
 */
export const handlers: { [M in RequestMethod]: Handler<M> } = {
	async join(ctx, payload) {
		if (payload.protocolVersion !== PROTOCOL_VERSION) {
			throw new SfuError('unsupported_protocol_version', `this server speaks protocol ${PROTOCOL_VERSION}`);
		}
		// Same 30 s skew allowance as the handshake's verification.
		if ((ctx.claims.exp + 30) * 1000 < Date.now()) throw new AuthError('auth_token_expired', 'the token has expired');
		if (ctx.peer && ctx.peer.state !== 'waiting' && ctx.peer.state !== 'closed') {
			throw new SfuError('already_joined', 'this connection has already joined');
		}
		const creatorSetsPolicy = ctx.claims.role === 'host' || ctx.claims.role === 'clinician';
		const waitingRoom = creatorSetsPolicy && ctx.claims.waitingRoom !== undefined ? ctx.claims.waitingRoom : ctx.defaultWaitingRoom;
		const type = creatorSetsPolicy && ctx.claims.roomType ? ctx.claims.roomType : 'consult';
		const room = await ctx.rooms.getOrCreate(ctx.claims.room, { waitingRoom, type });
		const { peer, response } = await room.join(
			{ sub: ctx.claims.sub, role: ctx.claims.role, displayName: ctx.claims.name },
			ctx.channel,
			{
				...(payload.rtpCapabilities ? { rtpCapabilities: payload.rtpCapabilities } : {}),
				...(payload.resume ? { resume: payload.resume } : {}),
			},
		);
		ctx.room = room;
		ctx.peer = peer;
		return response;
	},

	async setRtpCapabilities(ctx, { rtpCapabilities }) {
		joined(ctx).peer.rtpCapabilities = rtpCapabilities;
		return OK;
	},

	async createTransport(ctx, { direction }) {
		const { peer } = joined(ctx);
		const params = await peer.media.createTransport(direction);
		return { ...params, iceServers: ctx.iceServers() };
	},

	async connectTransport(ctx, { transportId, dtlsParameters }) {
		await joined(ctx).peer.media.connectTransport(transportId, dtlsParameters);
		return OK;
	},

	async restartIce(ctx, { transportId }) {
		return { iceParameters: await joined(ctx).peer.media.restartIce(transportId) };
	},

	async produce(ctx, payload) {
		const producer = await joined(ctx).peer.produce({
			transportId: payload.transportId,
			kind: payload.kind,
			rtpParameters: payload.rtpParameters,
			source: payload.source,
			...(payload.paused !== undefined ? { paused: payload.paused } : {}),
		});
		return { id: producer.id };
	},

	async closeProducer(ctx, { producerId }) {
		joined(ctx).peer.closeProducer(producerId);
		return OK;
	},

	async pauseProducer(ctx, { producerId }) {
		await joined(ctx).peer.pauseProducer(producerId);
		return OK;
	},

	async resumeProducer(ctx, { producerId }) {
		await joined(ctx).peer.resumeProducer(producerId);
		return OK;
	},

	async consume(ctx, { producerId }) {
		const { room, peer } = joined(ctx);
		const consumer = await room.consume(peer, producerId);
		return {
			id: consumer.id,
			producerId: consumer.producerId,
			peerId: consumer.appData.producerPeerId,
			kind: consumer.kind,
			source: consumer.appData.source,
			rtpParameters: consumer.rtpParameters,
			type: consumer.type,
			producerPaused: consumer.producerPaused,
		};
	},

	async resumeConsumer(ctx, { consumerId }) {
		await joined(ctx).peer.media.consumer(consumerId).resume();
		return OK;
	},

	async pauseConsumer(ctx, { consumerId }) {
		await joined(ctx).peer.media.consumer(consumerId).pause();
		return OK;
	},

	async closeConsumer(ctx, { consumerId }) {
		joined(ctx).peer.media.consumer(consumerId).close();
		return OK;
	},

	async setConsumerPreferredLayers(ctx, { consumerId, spatialLayer, temporalLayer }) {
		const consumer = joined(ctx).peer.media.consumer(consumerId);
		if (consumer.type !== 'simulcast' && consumer.type !== 'svc') {
			throw new SfuError('invalid_state', 'only simulcast and SVC consumers have layers');
		}
		await consumer.setPreferredLayers({ spatialLayer, ...(temporalLayer !== undefined ? { temporalLayer } : {}) });
		return OK;
	},

	async setConsumerPriority(ctx, { consumerId, priority }) {
		await joined(ctx).peer.media.consumer(consumerId).setPriority(priority);
		return OK;
	},

	async refreshToken(ctx, { token }) {
		const claims = await ctx.verifier.verify(token, ctx.claims.room);
		if (claims.sub !== ctx.claims.sub) throw new SfuError('forbidden', 'the new token is for another user');
		ctx.claims = claims;
		ctx.armExpiry();
		return { expiresAt: claims.exp };
	},

	async leave(ctx) {
		if (ctx.room && ctx.peer) ctx.room.remove(ctx.peer, 'left');
		ctx.room = null;
		ctx.peer = null;
		return OK;
	},

	async admit(ctx, { peerId }) {
		const { room, peer } = joined(ctx);
		await admitPeer(ctx.control, room, peer, peerId);
		return OK;
	},

	async deny(ctx, { peerId }) {
		const { room, peer } = joined(ctx);
		await denyPeer(ctx.control, room, peer, peerId);
		return OK;
	},

	async mutePeer(ctx, { peerId, source }) {
		const { room, peer } = joined(ctx);
		return { producerIds: await mutePeer(ctx.control, room, peer, peerId, source) };
	},

	async removePeer(ctx, { peerId }) {
		const { room, peer } = joined(ctx);
		await removePeer(ctx.control, room, peer, peerId);
		return OK;
	},

	async endRoom(ctx) {
		const { room, peer } = joined(ctx);
		await endRoom(ctx.control, room, peer);
		return OK;
	},

	async startRecording(ctx, { requireConsent }) {
		const { room, peer } = joined(ctx);
		if (!canModerate(peer.role)) throw new SfuError('forbidden', 'only the host may start a recording');
		const recording = await recordingsOf(ctx).start(room, requireConsent !== undefined ? { requireConsent } : {});
		return { recordingId: recording.id };
	},

	async stopRecording(ctx) {
		const { room, peer } = joined(ctx);
		if (!canModerate(peer.role)) throw new SfuError('forbidden', 'only the host may stop a recording');
		return recordingsOf(ctx).stop(room.id);
	},

	async createIngest(ctx, request) {
		const { peer } = joined(ctx);
		return ctx.ingest.createEndpoint(peer, {
			...(request.kinds ? { kinds: request.kinds } : {}),
			...(request.srtp !== undefined ? { srtp: request.srtp } : {}),
			...(request.sourceAddress !== undefined ? { sourceAddress: request.sourceAddress } : {}),
		});
	},

	async addIngestSource(ctx, { url, name }) {
		const { room, peer } = joined(ctx);
		if (!canModerate(peer.role)) throw new SfuError('forbidden', 'only the host may add a device source');
		const status = await ctx.ingest.addSource(room, { url, ...(name ? { name } : {}) });
		return { ingestId: status.ingestId };
	},

	async removeIngestSource(ctx, { ingestId }) {
		const { room, peer } = joined(ctx);
		if (!canModerate(peer.role)) throw new SfuError('forbidden', 'only the host may remove a device source');
		ctx.ingest.removeSource(room, ingestId);
		return OK;
	},

	async setRecordingConsent(ctx, { consent }) {
		const { room, peer } = joined(ctx);
		await recordingsOf(ctx).setConsent(room, peer, consent);
		return OK;
	},
};
