import type { LocalParticipant } from './LocalParticipant.js';
import { MediaSession } from './MediaSession.js';
import { MediaWatchdog, type MediaWatchdogHooks } from './MediaWatchdog.js';
import { QualityMonitor } from './QualityMonitor.js';
import { RtcEngine } from './RtcEngine.js';
import type { RoomEventMap } from './RoomEvent.js';
import { SignalClient } from './SignalClient.js';
import { Subscriber } from './Subscriber.js';
import type { TypedEmitter } from './TypedEmitter.js';

/** @internal What a session needs from its room. */
export interface RoomSessionOptions {
	url: string;
	room: string | undefined;
	path: string | undefined;
	requestTimeoutMs: number;
	connectTimeoutMs: number;
	autoSubscribe: boolean;
	adaptiveStream: boolean;
	statsIntervalMs: number;
	/** 'relay': TURN only, from the start. */
	iceTransportPolicy: 'all' | 'relay';
	/** Direct paths' time to connect before the relay-only retry (0: never). */
	relayFallbackMs: number;
	getToken: () => string | Promise<string>;
	events: TypedEmitter<RoomEventMap>;
	local: LocalParticipant;
	/** Speaker chosen by the application. */
	audioOutput(): string | undefined;
	/** Audio-only mode ({@link Room.setAudioOnly}). */
	audioOnly(): boolean;
	onPlaybackBlocked(): void;
	/** True while the room is joined and not reconnecting (quality is 'lost' otherwise). */
	joined(): boolean;
	watchdog: MediaWatchdogHooks;
}

/**
 * @internal One connection to one server: the signaling client, the WebRTC
 * engine, the remote side, the join logic, the media watchdog and the quality
 * monitor, wired together. A room builds a new one when it is redirected to
 * another cluster node; `close()` releases everything.
 */
export class RoomSession {
	readonly signal: SignalClient;
	readonly engine: RtcEngine;
	readonly subscriber: Subscriber;
	readonly media: MediaSession;
	readonly watchdog: MediaWatchdog;
	readonly monitor: QualityMonitor;

	constructor(options: RoomSessionOptions) {
		this.signal = new SignalClient({
			url: options.url,
			room: options.room,
			path: options.path,
			requestTimeoutMs: options.requestTimeoutMs,
			connectTimeoutMs: options.connectTimeoutMs,
			getToken: options.getToken,
		});
		this.engine = new RtcEngine(this.signal, { iceTransportPolicy: options.iceTransportPolicy });
		this.subscriber = new Subscriber({
			engine: this.engine,
			signal: this.signal,
			events: options.events,
			autoSubscribe: options.autoSubscribe,
			adaptiveStream: options.adaptiveStream,
			get audioOutput() {
				return options.audioOutput();
			},
			audioOnly: () => options.audioOnly(),
			onPlaybackBlocked: () => options.onPlaybackBlocked(),
		});
		this.media = new MediaSession(this.signal, this.engine, this.subscriber, options.local);
		this.watchdog = new MediaWatchdog(this.engine, this.signal, options.watchdog, { relayFallbackMs: options.relayFallbackMs });
		const { engine, subscriber } = this;
		this.monitor = new QualityMonitor(
			{
				events: options.events,
				local: options.local,
				tracks: () => subscriber.tracks(),
				participants: () => subscriber.participants.values(),
				mediaUp: () => options.joined() && engine.mediaConnected,
			},
			options.statsIntervalMs,
		);
	}

	/** Releases everything, without telling anybody (the room does). Idempotent. */
	close(): void {
		this.monitor.stop();
		this.watchdog.close();
		this.subscriber.close();
		this.engine.close();
		this.media.close();
		this.signal.close();
	}
}
