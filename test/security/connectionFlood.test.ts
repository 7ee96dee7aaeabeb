import { expect } from 'chai';
import { randomBytes } from 'node:crypto';
import { connect, type Socket } from 'node:net';
import { io, type Socket as ClientSocket } from 'socket.io-client';
import { waitFor } from '../support/processes.js';
import { mintToken, startSfu, type TestSfu } from '../support/sfu.js';

/** A raw WebSocket upgrade to Engine.IO, never followed by Socket.IO's CONNECT: what a flood looks like. */
interface RawSession {
	/** The server's answer: 101 and Engine.IO's open packet, or the refusal. */
	status: number;
	body: string;
	socket: Socket;
	closed: Promise<void>;
}

async function rawWebSocket(port: number, localAddress = '127.0.0.1'): Promise<RawSession> {
	const socket = connect({ host: '127.0.0.1', port, localAddress });
	const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
	socket.on('error', () => undefined);
	await new Promise<void>((resolve, reject) => {
		socket.once('connect', resolve);
		socket.once('error', reject);
	});
	socket.write(
		[
			'GET /socket.io/?EIO=4&transport=websocket HTTP/1.1',
			`Host: 127.0.0.1:${port}`,
			'Upgrade: websocket',
			'Connection: Upgrade',
			`Sec-WebSocket-Key: ${randomBytes(16).toString('base64')}`,
			'Sec-WebSocket-Version: 13',
			'',
			'',
		].join('\r\n'),
	);
	let received = '';
	await new Promise<void>((resolve) => {
		const onData = (chunk: Buffer): void => {
			received += chunk.toString('latin1');
			// A 101 is followed by the open packet in a WebSocket frame; a refusal by its body and the close.
			if (/^HTTP\/1\.1 101/.test(received) ? received.includes('"sid"') : received.includes('\r\n\r\n') && /Content-Length: (\d+)/i.test(received) && received.split('\r\n\r\n')[1]!.length >= Number(/Content-Length: (\d+)/i.exec(received)![1])) {
				socket.off('data', onData);
				resolve();
			}
		};
		socket.on('data', onData);
		void closed.then(resolve);
	});
	const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(received)?.[1] ?? 0);
	return { status, body: received.split('\r\n\r\n').slice(1).join('\r\n\r\n'), socket, closed };
}

/** A real client (socket.io-client, as the SDK) from a given loopback address; resolves once joined. */
async function legitimateClient(url: string, room: string, localAddress: string): Promise<ClientSocket> {
	const socket = io(url, { transports: ['websocket'], auth: { token: await mintToken({ room, role: 'clinician' }) }, forceNew: true, reconnection: false, localAddress } as Parameters<typeof io>[1]);
	await new Promise<void>((resolve, reject) => {
		socket.once('connect', () => resolve());
		socket.once('connect_error', (error) => {
			socket.close();
			reject(error);
		});
	});
	const joined = (await socket.timeout(10_000).emitWithAck('join', { protocolVersion: 1 })) as { ok: boolean };
	expect(joined.ok).to.equal(true);
	return socket;
}

describe('security: connection floods before authentication', function () {
	this.timeout(120_000);
	let sfu: TestSfu;
	const open: Socket[] = [];
	const clients: ClientSocket[] = [];

	before(async () => {
		sfu = await startSfu({
			MAX_CONNECTIONS_PER_IP: '10',
			SIGNALING_MAX_UNAUTHENTICATED: '15',
			SIGNALING_HANDSHAKE_TIMEOUT_MS: '3000',
			HTTP_REQUEST_TIMEOUT_MS: '2000',
			ROOM_WAITING_ROOM: 'false',
		});
	});
	afterEach(async () => {
		for (const socket of open.splice(0)) socket.destroy();
		for (const client of clients.splice(0)) client.close();
		// Each test starts with every place free again.
		await waitFor(() => sfu.server.counts().connections === 0, 10_000, 'the server to see every session closed');
	});
	after(async () => sfu?.close());

	it('counts raw Engine.IO sessions per address before any token: a parallel burst gets exactly the cap, and another address is still served', async () => {
		const port = sfu.server.port;
		// 40 upgrades at once from one address: the count is taken before anything awaits, so none slip past it.
		const burst = await Promise.all(Array.from({ length: 40 }, () => rawWebSocket(port)));
		open.push(...burst.map((s) => s.socket));
		const accepted = burst.filter((s) => s.status === 101);
		const refused = burst.filter((s) => s.status !== 101);
		expect(accepted).to.have.length(10);
		expect(refused.every((s) => s.status === 400 && s.body.startsWith('limit_exceeded:'))).to.equal(true, refused[0]?.body);
		// Long polling is counted the same way.
		const polling = await fetch(`${sfu.url}/socket.io/?EIO=4&transport=polling`);
		expect(polling.status).to.equal(403);
		expect(((await polling.json()) as { message: string }).message).to.match(/^limit_exceeded:/);
		// A clinician behind another address joins while the flood holds its cap.
		clients.push(await legitimateClient(sfu.url, 'flood-ward', '127.0.0.2'));
		expect(sfu.server.counts().peers).to.equal(1);
	});

	it('closes sessions that do not authenticate within the deadline, which frees their places', async () => {
		const port = sfu.server.port;
		const sessions = await Promise.all(Array.from({ length: 10 }, () => rawWebSocket(port)));
		open.push(...sessions.map((s) => s.socket));
		expect(sessions.every((s) => s.status === 101)).to.equal(true);
		const startedAt = Date.now();
		await Promise.all(sessions.map((s) => s.closed));
		const seconds = (Date.now() - startedAt) / 1000;
		// Deadline 3 s (a loaded machine may add some), far below Socket.IO's own 45 s.
		expect(seconds).to.be.below(20);
		const again = await rawWebSocket(port);
		open.push(again.socket);
		expect(again.status).to.equal(101);
	});

	it('caps unauthenticated sessions from all addresses together', async () => {
		const port = sfu.server.port;
		const first = await Promise.all(Array.from({ length: 10 }, () => rawWebSocket(port, '127.0.0.3')));
		const second = await Promise.all(Array.from({ length: 8 }, () => rawWebSocket(port, '127.0.0.4')));
		open.push(...first.map((s) => s.socket), ...second.map((s) => s.socket));
		const accepted = [...first, ...second].filter((s) => s.status === 101);
		expect(accepted.length).to.equal(15);
		const refused = second.filter((s) => s.status !== 101);
		expect(refused.map((s) => s.body.split(':')[0])).to.deep.equal(['unavailable', 'unavailable', 'unavailable']);
		// When the deadline has closed them, everyone is served again.
		await Promise.all(accepted.map((s) => s.closed));
		clients.push(await legitimateClient(sfu.url, 'after-flood', '127.0.0.5'));
	});

	it('cuts off a slowloris HTTP request and keeps serving', async () => {
		const socket = connect({ host: '127.0.0.1', port: sfu.server.port });
		open.push(socket);
		socket.on('error', () => undefined);
		let answer = '';
		socket.on('data', (chunk: Buffer) => (answer += chunk.toString('latin1')));
		const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
		await new Promise<void>((resolve) => socket.once('connect', () => resolve()));
		const startedAt = Date.now();
		socket.write('GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n');
		// One header line every 300 ms, never the blank line that ends the request.
		const trickle = setInterval(() => socket.writable && socket.write(`X-Slow-${Date.now()}: 1\r\n`), 300);
		try {
			await waitFor(() => socket.destroyed || socket.readableEnded || answer.length > 0, 30_000, 'the server to cut the slow request');
			await Promise.race([closed, new Promise((resolve) => setTimeout(resolve, 5000))]);
		} finally {
			clearInterval(trickle);
		}
		const seconds = (Date.now() - startedAt) / 1000;
		// HTTP_REQUEST_TIMEOUT_MS=2000, checked every 500 ms; a loaded machine may add some.
		expect(seconds).to.be.below(15);
		if (answer) expect(answer).to.match(/^HTTP\/1\.1 408/);
		expect((await fetch(`${sfu.url}/healthz`)).status).to.equal(200);
	});
});
