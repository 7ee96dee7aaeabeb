import { expect } from 'chai';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { get } from 'node:https';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { io } from 'socket.io-client';
import { mintToken, startSfu, TestClient, type TestSfu } from '../support/sfu.js';

async function refusal(url: string, token: string): Promise<string> {
	try {
		const client = await TestClient.connect(url, { token });
		client.close();
		return 'accepted';
	} catch (error) {
		// Connection limits refuse the WebSocket upgrade itself, before Socket.IO (and its error data) exist.
		return (error as { data?: { code: string } }).data?.code ?? 'refused before the handshake';
	}
}

describe('security: limits, token expiry and TLS', function () {
	this.timeout(60_000);

	describe('limits', () => {
		let sfu: TestSfu;
		const clients: TestClient[] = [];
		before(async () => {
			sfu = await startSfu({ MAX_ROOMS_PER_NODE: '2', MAX_CONNECTIONS_PER_IP: '4' });
		});
		after(async () => {
			for (const client of clients) client.close();
			await sfu.close();
		});

		it('refuses a room beyond MAX_ROOMS_PER_NODE with limit_exceeded', async () => {
			for (const room of ['l1', 'l2']) {
				const client = await TestClient.connect(sfu.url, { token: await mintToken({ room, role: 'clinician' }) });
				clients.push(client);
				expect((await client.request('join', { protocolVersion: 1 })).ok).to.equal(true);
			}
			const third = await TestClient.connect(sfu.url, { token: await mintToken({ room: 'l3', role: 'clinician' }) });
			clients.push(third);
			const result = await third.request('join', { protocolVersion: 1 });
			expect(!result.ok && result.error.code).to.equal('limit_exceeded');
		});

		it('refuses connections beyond MAX_CONNECTIONS_PER_IP, and accepts again when one closes', async () => {
			const token = await mintToken({ room: 'l1', role: 'observer' });
			const fourth = await TestClient.connect(sfu.url, { token });
			// The refusal's code is in the upgrade's answer (test/security/connectionFlood.test.ts reads it).
			expect(await refusal(sfu.url, token)).to.equal('refused before the handshake');
			const polling = await fetch(`${sfu.url}/socket.io/?EIO=4&transport=polling`);
			expect(((await polling.json()) as { message: string }).message).to.match(/^limit_exceeded:/);
			fourth.close();
			await sleep(200);
			expect(await refusal(sfu.url, token)).to.equal('accepted');
		});
	});

	describe('token expiry during a session', () => {
		let sfu: TestSfu;
		before(async () => {
			sfu = await startSfu();
		});
		after(() => sfu.close());

		it('ends a session when its token expires, and tells the others why', async () => {
			const watcher = await TestClient.connect(sfu.url, { token: await mintToken({ room: 'exp', role: 'host' }) });
			await watcher.ok('join', { protocolVersion: 1 });
			// A token with 2 s left (the handshake allows 30 s of clock skew; expiry does not).
			const shortLived = await TestClient.connect(sfu.url, { token: await mintToken({ room: 'exp', role: 'clinician', ttl: 2 }) });
			const joined = await shortLived.ok('join', { protocolVersion: 1 });
			const gone = new Promise((resolve) => shortLived.socket.once('disconnect', resolve));
			await shortLived.waitForNotification('kicked', (d) => d.reason === 'expired', 6000);
			await gone;
			await watcher.waitForNotification('peerLeft', (d) => d.peerId === joined.peerId && d.reason === 'expired');
			watcher.close();
		});

		it('keeps a session whose token was refreshed, and refuses a token of another user', async () => {
			const client = await TestClient.connect(sfu.url, { token: await mintToken({ room: 'exp2', role: 'clinician', sub: 'dr-long', ttl: 2 }) });
			await client.ok('join', { protocolVersion: 1 });
			const stranger = await client.request('refreshToken', { token: await mintToken({ room: 'exp2', role: 'clinician', sub: 'someone-else' }) });
			expect(!stranger.ok && stranger.error.code).to.equal('forbidden');
			const otherRoom = await client.request('refreshToken', { token: await mintToken({ room: 'elsewhere', role: 'clinician', sub: 'dr-long' }) });
			expect(!otherRoom.ok && otherRoom.error.code).to.equal('auth_wrong_room');
			const refreshed = await client.ok('refreshToken', { token: await mintToken({ room: 'exp2', role: 'clinician', sub: 'dr-long', ttl: 600 }) });
			expect(refreshed.expiresAt).to.be.greaterThan(Date.now() / 1000 + 500);
			await sleep(3000);
			expect(client.socket.connected).to.equal(true);
			expect((await client.request('createTransport', { direction: 'recv' })).ok).to.equal(true);
			client.close();
		});
	});

	describe('TLS', () => {
		let sfu: TestSfu;
		let dir: string;
		let cert: string;
		before(async () => {
			dir = mkdtempSync(path.join(tmpdir(), 'sfu-tls-'));
			execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', '/CN=localhost', '-addext', 'subjectAltName=IP:127.0.0.1', '-keyout', path.join(dir, 'key.pem'), '-out', path.join(dir, 'cert.pem')], { stdio: 'ignore' });
			cert = readFileSync(path.join(dir, 'cert.pem'), 'utf8');
			sfu = await startSfu({ TLS_CERT_FILE: path.join(dir, 'cert.pem'), TLS_KEY_FILE: path.join(dir, 'key.pem') });
		});
		after(async () => {
			await sfu?.close();
			rmSync(dir, { recursive: true, force: true });
		});

		it('serves HTTPS and signaling over WSS with the configured certificate', async () => {
			const url = `https://127.0.0.1:${sfu.server.port}`;
			const status = await new Promise<number>((resolve, reject) => get(`${url}/healthz`, { ca: cert }, (res) => resolve(res.statusCode ?? 0)).on('error', reject));
			expect(status).to.equal(200);
			const socket = io(url, { transports: ['websocket'], auth: { token: await mintToken({ room: 'tls', role: 'clinician' }) }, ca: cert, forceNew: true, reconnection: false });
			try {
				await new Promise<void>((resolve, reject) => {
					socket.once('connect', () => resolve());
					socket.once('connect_error', reject);
				});
				const answer = (await socket.timeout(5000).emitWithAck('join', { protocolVersion: 1 })) as { ok: boolean };
				expect(answer.ok).to.equal(true);
			} finally {
				socket.close();
			}
		});
	});
});
