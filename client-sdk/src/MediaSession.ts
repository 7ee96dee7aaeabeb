import type { LocalParticipant } from './LocalParticipant.js';
import { PROTOCOL_VERSION, type JoinResponse, type JoinedResponse, type RequestOf } from './protocol.js';
import type { Direction, RtcEngine } from './RtcEngine.js';
import type { SignalClient } from './SignalClient.js';
import type { Subscriber } from './Subscriber.js';

/**
 * How a `join` ended: in the waiting room, a first session, the server's
 * kept session resumed, or a session rebuilt from scratch (the server had
 * forgotten this peer).
 */
export type JoinOutcome = 'waiting' | 'started' | 'resumed' | 'rebuilt';

/**
 * The `join` half of the protocol and what follows each answer: starting a
 * media session (device, capabilities, subscriptions, publications),
 * resuming a kept one after a reconnect (ICE restarts, catching up), or
 * rebuilding a forgotten one.
 */
export class MediaSession {
	readonly #signal: SignalClient;
	readonly #engine: RtcEngine;
	readonly #subscriber: Subscriber;
	readonly #local: LocalParticipant;
	/** A joined session exists that a reconnect can resume. */
	#active = false;
	#everJoined = false;

	constructor(signal: SignalClient, engine: RtcEngine, subscriber: Subscriber, local: LocalParticipant) {
		this.#signal = signal;
		this.#engine = engine;
		this.#subscriber = subscriber;
		this.#local = local;
	}

	/** True while a joined session exists (what a reconnect resumes). */
	get active(): boolean {
		return this.#active;
	}

	/**
	 * Sends `join` (with `resume` when a session exists) and acts on the
	 * answer. `isEnded` is checked after each wait so a room closed meanwhile
	 * does not start media.
	 */
	async join(isEnded: () => boolean, options: { freshTransports?: boolean } = {}): Promise<{ outcome: JoinOutcome; answer: JoinResponse }> {
		const resume = this.#active;
		const payload: RequestOf<'join'> = { protocolVersion: PROTOCOL_VERSION };
		if (this.#engine.loaded) payload.rtpCapabilities = this.#engine.receiveCapabilities;
		// `freshTransports`: keep the peer but let the server close every transport (ICE restarts did not help).
		if (resume) payload.resume = { transportIds: options.freshTransports ? [] : (['send', 'recv'] as const).flatMap((d) => this.#engine.transport(d)?.id ?? []) };
		const answer = await this.#signal.request('join', payload);
		if (isEnded()) return { outcome: 'waiting', answer };
		if (answer.waiting) {
			this.#local.setIdentity(answer.peerId, undefined, '');
			if (this.#active) this.#teardown();
			return { outcome: 'waiting', answer };
		}
		this.#local.setIdentity(answer.peerId, answer.role, '');
		if (resume && answer.resumed) {
			await this.#resume(answer);
			return { outcome: 'resumed', answer };
		}
		const rebuilt = this.#active;
		await this.#start(answer);
		return { outcome: rebuilt ? 'rebuilt' : 'started', answer };
	}

	/** A new media session: load the device, receive everyone, (re)publish local tracks. */
	async #start(answer: JoinedResponse): Promise<void> {
		const engine = this.#engine;
		if (this.#active) {
			this.#subscriber.dropTracks();
			engine.reset();
		}
		const canConsume = answer.role !== 'device';
		const ready = (async () => {
			const rtpCapabilities = await engine.load(answer.routerRtpCapabilities);
			await this.#signal.request('setRtpCapabilities', { rtpCapabilities });
		})();
		this.#subscriber.startSession(ready, canConsume);
		// Synchronously after the answer: notifications that follow apply on top.
		this.#subscriber.reconcile(answer.peers, !this.#everJoined);
		await ready;
		this.#active = true;
		this.#everJoined = true;
		// Created now so that a reconnect can resume it even before the first consume.
		if (canConsume) void engine.ensureTransport('recv').catch(() => undefined);
		await this.#local.republish([]);
	}

	/** The server kept this peer: restart ICE, catch up on what changed, republish what it dropped. */
	async #resume(answer: JoinedResponse): Promise<void> {
		const engine = this.#engine;
		this.#subscriber.reconcile(answer.peers, false);
		const lost: Direction[] = [];
		const kept = new Set(answer.kept.transportIds);
		await Promise.all(
			(['send', 'recv'] as const).map(async (direction) => {
				const transport = engine.transport(direction);
				if (!transport) return;
				if (!kept.has(transport.id)) {
					engine.dropTransport(direction);
					lost.push(direction);
					return;
				}
				try {
					await engine.restartIce(direction);
				} catch {
					// The server did not keep this transport (or it broke): build a new one.
					engine.dropTransport(direction);
					lost.push(direction);
				}
			}),
		);
		if (lost.includes('recv')) {
			this.#subscriber.dropTracks();
			this.#subscriber.reconcile(answer.peers, false);
			void engine.ensureTransport('recv').catch(() => undefined);
		}
		await this.#local.republish(lost.includes('send') ? [] : answer.producers);
	}

	/** Forgotten by the server and back in the waiting room: the media session is gone. */
	#teardown(): void {
		this.#subscriber.dropTracks();
		this.#subscriber.reconcile([], false);
		this.#engine.reset();
		this.#active = false;
	}

	/** The room ended. */
	close(): void {
		this.#active = false;
	}
}
