import { createSocket } from 'node:dgram';
import { SfuError } from '../protocol/index.js';

/**
 * Hands out pairs of local UDP ports (RTP on an even port, RTCP on the next)
 * from a range, for ffmpeg to receive on. A pair is tried by binding both
 * ports before it is handed out.
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

	async acquire(): Promise<number> {
		const pairs = Math.floor((this.#max - this.#min + 1) / 2);
		for (let attempt = 0; attempt < pairs; attempt++) {
			const port = this.#next;
			this.#next = port + 2 > this.#max - 1 ? this.#min : port + 2;
			if (this.#used.has(port)) continue;
			if ((await canBind(port)) && (await canBind(port + 1))) {
				this.#used.add(port);
				return port;
			}
		}
		throw new SfuError('unavailable', `no free recording port pair in ${this.#min}-${this.#max}`);
	}

	release(port: number): void {
		this.#used.delete(port);
	}
}

function canBind(port: number): Promise<boolean> {
	return new Promise((resolve) => {
		const socket = createSocket('udp4');
		socket.once('error', () => {
			socket.close();
			resolve(false);
		});
		socket.bind(port, '127.0.0.1', () => socket.close(() => resolve(true)));
	});
}
