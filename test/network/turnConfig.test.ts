import { expect } from 'chai';
import { loadConfig } from '../../server/config/index.js';
import { turnRestCredential, TurnCredentials, webRtcListenInfos } from '../../server/network/index.js';
import { startSfu, TestClient, mintToken, type TestSfu } from '../support/sfu.js';

const SECRET = 'coturn-shared-secret-0123';

describe('network: TURN credentials, listen addresses and their configuration', function () {
	describe('TURN REST credentials', () => {
		it('match coturn’s use-auth-secret: base64(HMAC-SHA1(secret, "<expiry>:<id>"))', () => {
			// Computed independently (Python hmac) for this secret and username.
			expect(turnRestCredential(SECRET, '1700003600:opaque')).to.equal('KrFWQpADip2QtT8bZNMiAKL5Ms0=');
		});

		it('are minted fresh for each transport: expiry = now + ttl, an opaque id, no names', () => {
			const turn = new TurnCredentials({
				urls: ['turn:turn.example.org:3478?transport=udp', 'turns:turn.example.org:443?transport=tcp', 'stun:stun.example.org'],
				secret: SECRET,
				ttlSeconds: 600,
				now: () => 1_700_000_000_500,
			});
			const [first, second] = [turn.iceServers(), turn.iceServers()];
			expect(first).to.have.length(2);
			const relay = first[0]!;
			expect(relay.urls).to.deep.equal(['turn:turn.example.org:3478?transport=udp', 'turns:turn.example.org:443?transport=tcp']);
			expect(relay.username).to.match(/^1700000600:[A-Za-z0-9_-]{12}$/);
			expect(relay.credential).to.equal(turnRestCredential(SECRET, relay.username!));
			expect(first[1]).to.deep.equal({ urls: ['stun:stun.example.org'] });
			expect(second[0]!.username).to.not.equal(relay.username);
			expect(turn.hasTurn).to.equal(true);
		});

		it('refuse TURN URLs without a secret', () => {
			expect(() => new TurnCredentials({ urls: ['turn:turn.example.org'] })).to.throw(/secret/);
			expect(new TurnCredentials({ urls: ['stun:stun.example.org'] }).iceServers()).to.deep.equal([{ urls: ['stun:stun.example.org'] }]);
		});
	});

	describe('configuration', () => {
		const base = { JWT_SECRET: 'test-secret-0123456789abcdef' };

		it('reads WEBRTC_LISTEN_INFOS, WEBRTC_UDP_PORT/TCP_PORT and TURN_* (WEBRTC_PORT still works alone)', () => {
			const config = loadConfig({
				...base,
				WEBRTC_LISTEN_INFOS: '0.0.0.0/203.0.113.7, 10.1.2.3',
				WEBRTC_PORT: '40000',
				WEBRTC_TCP_PORT: '443',
				TURN_URLS: 'turn:turn.example.org:3478?transport=udp,turns:turn.example.org:443?transport=tcp',
				TURN_SECRET: SECRET,
				TURN_TTL_SECONDS: '900',
			});
			expect(config.webrtc.listenInfos).to.deep.equal([{ ip: '0.0.0.0', announcedIp: '203.0.113.7' }, { ip: '10.1.2.3' }]);
			expect(config.webrtc.port).to.equal(40000);
			expect(config.webrtc.udpPort).to.equal(undefined);
			expect(config.webrtc.tcpPort).to.equal(443);
			expect(config.turn).to.deep.equal({ urls: ['turn:turn.example.org:3478?transport=udp', 'turns:turn.example.org:443?transport=tcp'], secret: SECRET, ttlSeconds: 900 });
			const defaults = loadConfig({ ...base, WEBRTC_PORT: '45000' });
			expect(defaults.webrtc).to.include({ listenIp: '127.0.0.1', port: 45000 });
			expect(defaults.webrtc.listenInfos).to.equal(undefined);
			expect(defaults.turn).to.deep.equal({ urls: [], ttlSeconds: 3600 });
		});

		it('names the bad setting', () => {
			expect(() => loadConfig({ ...base, WEBRTC_LISTEN_INFOS: 'sfu.example.org' })).to.throw(/WEBRTC_LISTEN_INFOS.*ip or ip\/announcedIp/);
			expect(() => loadConfig({ ...base, WEBRTC_LISTEN_INFOS: '10.0.0.1/1.2.3.4/5.6.7.8' })).to.throw(/WEBRTC_LISTEN_INFOS/);
			expect(() => loadConfig({ ...base, WEBRTC_TCP_PORT: '70000' })).to.throw(/WEBRTC_TCP_PORT: must be at most 65535/);
			expect(() => loadConfig({ ...base, TURN_URLS: 'http://turn.example.org' })).to.throw(/TURN_URLS.*turn:, turns: or stun:/);
			expect(() => loadConfig({ ...base, TURN_URLS: 'turn:turn.example.org:3478' })).to.throw(/TURN_SECRET: is required/);
			expect(() => loadConfig({ ...base, TURN_URLS: 'turn:t.example.org', TURN_SECRET: 'short' })).to.throw(/TURN_SECRET: must be at least 16/);
			expect(() => loadConfig({ ...base, TURN_URLS: 'turn:t.example.org', TURN_SECRET: SECRET, TURN_TTL_SECONDS: '5' })).to.throw(/TURN_TTL_SECONDS: must be at least 60/);
		});

		it('gives each worker every address on UDP then TCP, each protocol on its own port (+ slot)', () => {
			const addresses = [{ ip: '0.0.0.0', announcedIp: '203.0.113.7' }, { ip: '10.1.2.3' }];
			expect(webRtcListenInfos(addresses, { port: 40000, tcpPort: 443 }, 1)).to.deep.equal([
				{ protocol: 'udp', ip: '0.0.0.0', announcedIp: '203.0.113.7', port: 40001 },
				{ protocol: 'udp', ip: '10.1.2.3', port: 40001 },
				{ protocol: 'tcp', ip: '0.0.0.0', announcedIp: '203.0.113.7', port: 444 },
				{ protocol: 'tcp', ip: '10.1.2.3', port: 444 },
			]);
			expect(webRtcListenInfos([{ ip: '127.0.0.1' }], { port: 0 }, 3)).to.deep.equal([
				{ protocol: 'udp', ip: '127.0.0.1' },
				{ protocol: 'tcp', ip: '127.0.0.1' },
			]);
		});
	});

	describe('a running node', function () {
		this.timeout(30_000);
		let sfu: TestSfu;

		before(async () => {
			sfu = await startSfu({
				WEBRTC_LISTEN_INFOS: '127.0.0.1/127.0.0.9',
				WEBRTC_UDP_PORT: '0',
				WEBRTC_TCP_PORT: '0',
				TURN_URLS: 'turn:127.0.0.1:3478?transport=udp,turn:127.0.0.1:3478?transport=tcp',
				TURN_SECRET: SECRET,
				TURN_TTL_SECONDS: '120',
			});
		});

		after(async () => {
			await sfu?.close();
		});

		it('announces each listen address on UDP and TCP and mints TURN credentials per createTransport, never logging them', async () => {
			const client = await TestClient.connect(sfu.url, { token: await mintToken({ room: 'turn-config', role: 'host' }), room: 'turn-config' });
			try {
				await client.ok('join', { protocolVersion: 1 });
				const send = await client.ok('createTransport', { direction: 'send' });
				const recv = await client.ok('createTransport', { direction: 'recv' });
				expect(send.iceCandidates.map((c) => `${c.protocol} ${c.ip}`).sort()).to.deep.equal(['tcp 127.0.0.9', 'udp 127.0.0.9']);
				const udp = send.iceCandidates.find((c) => c.protocol === 'udp')!;
				const tcp = send.iceCandidates.find((c) => c.protocol === 'tcp')!;
				expect(udp.priority).to.be.greaterThan(tcp.priority);
				const now = Math.floor(Date.now() / 1000);
				for (const params of [send, recv]) {
					expect(params.iceServers).to.have.length(1);
					const server = params.iceServers[0]!;
					expect(server.urls).to.deep.equal(['turn:127.0.0.1:3478?transport=udp', 'turn:127.0.0.1:3478?transport=tcp']);
					const expiry = Number(server.username!.split(':')[0]);
					expect(expiry).to.be.within(now + 118, now + 122);
					expect(server.credential).to.equal(turnRestCredential(SECRET, server.username!));
				}
				expect(send.iceServers[0]!.username).to.not.equal(recv.iceServers[0]!.username);
				const logText = JSON.stringify(sfu.logs);
				expect(logText).to.not.include(send.iceServers[0]!.credential!);
				expect(logText).to.not.include(SECRET);
			} finally {
				client.close();
			}
		});
	});
});
