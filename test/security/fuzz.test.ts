import { expect } from 'chai';
import { randomBytes } from 'node:crypto';
import { io, type Socket } from 'socket.io-client';
import { ERROR_CODES, REQUEST_METHODS } from '../../server/protocol/index.js';
import { launchBrowser, type TestBrowser } from '../support/browser.js';
import { openDemo, waitForMediaFrom, waitForMoreFrames } from '../support/demoPage.js';
import { waitFor } from '../support/processes.js';
import { mintToken, startSfu, type TestSfu } from '../support/sfu.js';

/** A small deterministic PRNG, so a failing run can be replayed. */
function prng(seed: number): () => number {
	let state = seed >>> 0;
	return () => {
		state = (state * 1664525 + 1013904223) >>> 0;
		return state / 2 ** 32;
	};
}

function garbage(random: () => number, depth = 0): unknown {
	const pick = Math.floor(random() * 12);
	switch (pick) {
		case 0:
			return null;
		case 1:
			return random() * 1e12 - 5e11;
		case 2:
			return 'x'.repeat(Math.floor(random() * 2000));
		case 3:
			return randomBytes(Math.floor(random() * 512));
		case 4:
			return random() > 0.5;
		case 5:
			return depth < 40 ? [garbage(random, depth + 1), garbage(random, depth + 1)] : [];
		case 6: {
			// Deep nesting.
			let value: unknown = {};
			for (let i = 0; i < 60; i++) value = { a: value };
			return value;
		}
		case 7:
			return { transportId: 'ffffffff-ffff-ffff-ffff-ffffffffffff', dtlsParameters: { fingerprints: [{ algorithm: 'sha-256', value: 'AA' }] } };
		case 8:
			return { producerId: randomBytes(8).toString('hex'), consumerId: '../../x', kind: 'video', source: 'camera', rtpParameters: { codecs: [{ mimeType: 'video/VP8', payloadType: 96, clockRate: 90000 }] } };
		case 9:
			return { protocolVersion: 1, __proto__: { admin: true }, constructor: { prototype: { polluted: true } } };
		case 10:
			return depth < 40 ? Object.fromEntries(Array.from({ length: 5 }, (_, i) => [`k${i}`, garbage(random, depth + 1)])) : {};
		default:
			return { huge: 'A'.repeat(100_000) };
	}
}

describe('security: fuzzing the signaling server', function () {
	this.timeout(180_000);
	let sfu: TestSfu;
	let browser: TestBrowser;

	before(async () => {
		// A generous rate limit, so the payloads reach validation (rate limits have their own test).
		sfu = await startSfu({ ROOM_WAITING_ROOM: 'false', MEDIASOUP_NUM_WORKERS: '2', PEER_GRACE_PERIOD_MS: '500', EMPTY_ROOM_TIMEOUT_MS: '200', SIGNALING_REQUESTS_PER_SECOND: '5000' });
		browser = await launchBrowser();
	});
	after(async () => {
		await browser?.close();
		await sfu?.close();
	});

	it('answers 10,000 malformed, random, oversized and out-of-order messages with error codes, keeps another room’s call and returns to baseline', async () => {
		const a = await openDemo(browser, sfu.url, 'protected-call', 'host');
		const b = await openDemo(browser, sfu.url, 'protected-call', 'clinician');
		await waitForMediaFrom(a, b);
		await waitForMediaFrom(b, a);
		const baseline = sfu.server.counts();

		const methods = [...REQUEST_METHODS, 'constructor', '__proto__', 'toString', 'hasOwnProperty', 'x'.repeat(1000), ''];
		const codes = new Map<string, number>();
		let okCount = 0;
		let dropped = 0;
		let sent = 0;
		const sockets = 20;
		const perSocket = 520;
		await Promise.all(
			Array.from({ length: sockets }, async (_, index) => {
				const random = prng(1000 + index);
				const role = (['host', 'clinician', 'patient', 'observer', 'device'] as const)[index % 5]!;
				const socket: Socket = io(sfu.url, { transports: ['websocket'], auth: { token: await mintToken({ room: `fuzz-${index % 4}`, role }) }, forceNew: true, reconnection: false });
				await new Promise<void>((resolve) => {
					socket.once('connect', () => resolve());
					socket.once('connect_error', () => resolve());
				});
				// Half the sockets join properly first, so handlers with state get fuzzed too.
				if (index % 2 === 0 && socket.connected) await socket.timeout(5000).emitWithAck('join', { protocolVersion: 1 }).catch(() => undefined);
				for (let i = 0; i < perSocket; i++) {
					sent += 1;
					const method = methods[Math.floor(random() * methods.length)]!;
					const payload = garbage(random);
					if (!socket.connected) {
						dropped += 1;
						continue;
					}
					if (random() < 0.05) {
						socket.emit(method, payload); // no acknowledgement: must be ignored
						dropped += 1;
						continue;
					}
					try {
						const answer = (await socket.timeout(5000).emitWithAck(method, payload)) as { ok: boolean; error?: { code: string; message: string } };
						if (answer.ok) okCount += 1;
						else {
							expect(ERROR_CODES).to.include(answer.error!.code);
							expect(answer.error!.message).to.be.a('string');
							codes.set(answer.error!.code, (codes.get(answer.error!.code) ?? 0) + 1);
						}
					} catch {
						dropped += 1; // oversized: the server closed this connection
					}
				}
				// Last, one message beyond SIGNALING_MAX_PAYLOAD_BYTES: the server drops the connection.
				if (socket.connected) {
					sent += 1;
					const disconnected = new Promise((resolve) => socket.once('disconnect', resolve));
					socket.emit('join', { protocolVersion: 1, pad: 'A'.repeat(300_000) }, () => undefined);
					await Promise.race([disconnected, new Promise((resolve) => setTimeout(resolve, 5000))]);
					expect(socket.connected).to.equal(false);
					dropped += 1;
				}
				socket.close();
			}),
		);
		expect(sent).to.be.at.least(10_000);
		expect(codes.get('internal_error') ?? 0, JSON.stringify([...codes])).to.equal(0);
		expect([...codes.values()].reduce((x, y) => x + y, 0) + okCount + dropped).to.equal(sent);
		expect(codes.get('invalid_payload') ?? 0).to.be.greaterThan(100);
		expect(codes.get('unknown_method') ?? 0).to.be.greaterThan(100);

		// The server is up, the other room's call still has media both ways…
		expect(((await (await fetch(`${sfu.url}/healthz`)).json()) as { status: string }).status).to.equal('ok');
		await waitForMoreFrames(a, b);
		await waitForMoreFrames(b, a);
		// …and everything the fuzzers made is gone again.
		await waitFor(() => JSON.stringify(sfu.server.counts()) === JSON.stringify(baseline), 15_000, `counts back to baseline ${JSON.stringify(baseline)} (now ${JSON.stringify(sfu.server.counts())})`);
		expect({}).to.not.have.property('polluted');
	});
});
