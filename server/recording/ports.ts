import { createSocket } from 'node:dgram';
import { SfuError } from '../protocol/index.js';

/**
 * Where a recorder ffmpeg listens: loopback only, never 0.0.0.0, so no other
 * host can send it media to be sealed into a signed recording.
 */
export const RECORDER_ADDRESS = '127.0.0.1';
/**
 * Where the worker's PlainTransport feeding it sends from, on the same port
 * number: ffmpeg's SDP demuxer connects its socket to `<c= address>:<m= port>`
 * (`-sdp_flags filter_src`), so the kernel hands it only the worker's packets,
 * not those of another local socket. A second loopback address is what lets
 * both ends use the one port number the SDP can name.
 */
export const FEED_ADDRESS = '127.0.0.2';

/**
 * Hands out local UDP ports from a range for ffmpeg to receive on: RTP (with
 * RTCP muxed) on an even port, the next one kept for the RTCP socket ffmpeg
 * opens anyway. A port is tried by binding it on both loopback addresses
 * before it is handed out.
 */
export class RecordingPorts {
	readonly #min: number;
	readonly #max: number;
	readonly #used = new Set<number>();
	#next: number;

	constructor(min: number, max: number) {
		this.#min = min % 2 === 0 ? min : min + 1;
		this.#max = max;
		this.#next = this.#min;
	}

	/** Pairs handed out now. */
	get inUse(): number {
		return this.#used.size;
	}

	/** A free pair; `limit_exceeded` when the range is exhausted. */
	async acquire(): Promise<number> {
		const pairs = Math.floor((this.#max - this.#min + 1) / 2);
		for (let attempt = 0; attempt < pairs; attempt++) {
			const port = this.#next;
			this.#next = port + 2 > this.#max - 1 ? this.#min : port + 2;
			if (this.#used.has(port)) continue;
			if ((await canBind(RECORDER_ADDRESS, port)) && (await canBind(RECORDER_ADDRESS, port + 1)) && (await canBind(FEED_ADDRESS, port))) {
				this.#used.add(port);
				return port;
			}
		}
		throw new SfuError('limit_exceeded', `no free recording port pair in ${this.#min}-${this.#max}`);
	}

	release(port: number): void {
		this.#used.delete(port);
	}
}

function canBind(address: string, port: number): Promise<boolean> {
	return new Promise((resolve) => {
		const socket = createSocket('udp4');
		socket.once('error', () => {
			socket.close();
			resolve(false);
		});
		socket.bind(port, address, () => socket.close(() => resolve(true)));
	});
}
