import { createSocket, type RemoteInfo, type Socket } from 'node:dgram';
import type { Page } from 'puppeteer-core';

/**
 * A UDP relay between one browser tab and the SFU's WebRTC port, which the
 * test can cut like a pulled cable: while `down`, every datagram in both
 * directions is dropped, so ICE consent checks, DTLS and RTP all vanish — what
 * a real network loss does, and what Chromium's offline emulation does not do
 * for WebRTC.
 *
 * The tab reaches the relay because {@link routeMediaThroughRelay} rewrites
 * the server's ICE candidates in that tab only (UDP → the relay's port, TCP
 * dropped so media cannot bypass it).
 */
export class MediaRelay {
	/** True while the "cable" is pulled. */
	down = false;
	/** Datagrams dropped while down (proof the outage was real). */
	dropped = 0;
	readonly #fronts = new Map<string, Promise<Socket>>();
	readonly #backs = new Set<Socket>();

	/** The local UDP port that forwards to `ip:port` (created on first use). */
	async portFor(ip: string, port: number): Promise<number> {
		const key = `${ip}:${port}`;
		let front = this.#fronts.get(key);
		if (!front) {
			front = this.#createFront(ip, port);
			this.#fronts.set(key, front);
		}
		return (await front).address().port;
	}

	async close(): Promise<void> {
		const sockets = [...(await Promise.all(this.#fronts.values())), ...this.#backs];
		this.#fronts.clear();
		this.#backs.clear();
		for (const socket of sockets) {
			try {
				socket.close();
			} catch {
				// already closed
			}
		}
	}

	async #createFront(targetIp: string, targetPort: number): Promise<Socket> {
		const front = createSocket('udp4');
		// One upstream socket per browser address, as a NAT would keep one mapping per flow.
		const backs = new Map<string, Socket>();
		front.on('message', (message: Buffer, client: RemoteInfo) => {
			if (this.down) {
				this.dropped++;
				return;
			}
			const key = `${client.address}:${client.port}`;
			let back = backs.get(key);
			if (!back) {
				back = createSocket('udp4');
				back.on('message', (reply: Buffer) => {
					if (this.down) {
						this.dropped++;
						return;
					}
					front.send(reply, client.port, client.address);
				});
				back.on('error', () => undefined);
				back.bind(0, '127.0.0.1');
				backs.set(key, back);
				this.#backs.add(back);
			}
			back.send(message, targetPort, targetIp);
		});
		front.on('error', () => undefined);
		await new Promise<void>((resolve) => front.bind(0, '127.0.0.1', resolve));
		return front;
	}
}

/**
 * Makes `page` send its WebRTC media through `relay`: the SFU's UDP candidates
 * in every remote description are rewritten to the relay's port and its TCP
 * candidates removed. Call before the page loads.
 */
export async function routeMediaThroughRelay(page: Page, relay: MediaRelay): Promise<void> {
	await page.exposeFunction('__relayPort', (ip: string, port: number) => relay.portFor(ip, port));
	await page.evaluateOnNewDocument(() => {
		// Runs in the page; typed loosely because the test project has no DOM types.
		type Description = { type?: string; sdp?: string };
		type Setter = (this: unknown, description?: Description) => Promise<void>;
		const w = globalThis as unknown as { __relayPort(ip: string, port: number): Promise<number>; RTCPeerConnection: { prototype: { setRemoteDescription: Setter } } };
		const prototype = w.RTCPeerConnection.prototype;
		const original = prototype.setRemoteDescription;
		prototype.setRemoteDescription = async function (this: unknown, description?: Description) {
			if (description?.sdp) {
				const lines: string[] = [];
				for (const line of description.sdp.split('\r\n')) {
					if (!line.startsWith('a=candidate:')) {
						lines.push(line);
						continue;
					}
					const parts = line.split(' ');
					if (parts[2]?.toLowerCase() !== 'udp') continue;
					parts[5] = String(await w.__relayPort(parts[4]!, Number(parts[5])));
					lines.push(parts.join(' '));
				}
				description = { type: description.type, sdp: lines.join('\r\n') };
			}
			return original.call(this, description);
		};
	});
}
