import { expect } from 'chai';
import { SignJWT } from 'jose';
import { mintToken, startSfu, TestClient, type TestSfu } from '../support/sfu.js';
import { TEST_JWT_SECRET } from '../support/serverProcess.js';

const ADMIN_SECRET = 'admin-only-secret-0123456789';

async function handshake(url: string, token: string): Promise<string> {
	try {
		const client = await TestClient.connect(url, { token });
		client.close();
		return 'accepted';
	} catch (error) {
		return (error as { data?: { code?: string } }).data?.code ?? 'transport error';
	}
}

/** A token as a portal would mint it, with full control over the registered claims. */
async function sign(claims: Record<string, unknown>, options: { secret?: string; iat?: number | null; exp?: number | null; aud?: string; iss?: string } = {}): Promise<string> {
	const now = Math.floor(Date.now() / 1000);
	const jwt = new SignJWT({ name: 'Test user', ...claims }).setProtectedHeader({ alg: 'HS256' }).setSubject(typeof claims['sub'] === 'string' ? claims['sub'] : 'user-t');
	if (options.iat !== null) jwt.setIssuedAt(options.iat ?? now);
	if (options.exp !== null) jwt.setExpirationTime(options.exp ?? now + 600);
	if (options.aud) jwt.setAudience(options.aud);
	if (options.iss) jwt.setIssuer(options.iss);
	return jwt.sign(new TextEncoder().encode(options.secret ?? TEST_JWT_SECRET));
}

async function rest(sfu: TestSfu, token: string): Promise<number> {
	return (await fetch(`${sfu.url}/api/recordings`, { headers: { authorization: `Bearer ${token}` } })).status;
}

describe('security: token audience, issuer, lifetime and admin keys', function () {
	this.timeout(60_000);

	describe('with JWT_AUDIENCE, JWT_ISSUER, JWT_MAX_LIFETIME_SECONDS and ADMIN_JWT_SECRET', () => {
		let sfu: TestSfu;
		const room = 'tokens-ward';
		before(async () => {
			sfu = await startSfu({ JWT_AUDIENCE: 'sfu.example.org', JWT_ISSUER: 'portal.example.org', JWT_MAX_LIFETIME_SECONDS: '3600', ADMIN_JWT_SECRET: ADMIN_SECRET });
		});
		after(async () => sfu?.close());

		const good = { aud: 'sfu.example.org', iss: 'portal.example.org' };

		it('accepts a token with the right audience and issuer', async () => {
			expect(await handshake(sfu.url, await sign({ room, role: 'clinician' }, good))).to.equal('accepted');
		});

		it('refuses a token minted for another audience or by another issuer, or without them', async () => {
			expect(await handshake(sfu.url, await sign({ room, role: 'clinician' }, { ...good, aud: 'billing.example.org' }))).to.equal('auth_invalid_claims');
			expect(await handshake(sfu.url, await sign({ room, role: 'clinician' }, { ...good, iss: 'evil.example.org' }))).to.equal('auth_invalid_claims');
			expect(await handshake(sfu.url, await sign({ room, role: 'clinician' }))).to.equal('auth_invalid_claims');
		});

		it('refuses a token that lives longer than the maximum, counted from iat or from now, and one without exp', async () => {
			const now = Math.floor(Date.now() / 1000);
			expect(await handshake(sfu.url, await sign({ room, role: 'clinician' }, { ...good, exp: now + 3 * 3600 }))).to.equal('auth_invalid_claims');
			// An old iat does not hide a long life: exp − iat counts.
			expect(await handshake(sfu.url, await sign({ room, role: 'clinician' }, { ...good, iat: now - 7200, exp: now + 600 }))).to.equal('auth_invalid_claims');
			// Without iat, exp − now counts.
			expect(await handshake(sfu.url, await sign({ room, role: 'clinician' }, { ...good, iat: null, exp: now + 3 * 3600 }))).to.equal('auth_invalid_claims');
			expect(await handshake(sfu.url, await sign({ room, role: 'clinician' }, { ...good, iat: null, exp: now + 600 }))).to.equal('accepted');
			expect(await handshake(sfu.url, await sign({ room, role: 'clinician' }, { ...good, exp: null }))).to.equal('auth_invalid_claims');
			// refreshToken applies the same rules.
			const client = await TestClient.connect(sfu.url, { token: await sign({ room, role: 'clinician', sub: 'dr-refresh' }, good) });
			try {
				const long = await client.request('refreshToken', { token: await sign({ room, role: 'clinician', sub: 'dr-refresh' }, { ...good, exp: now + 30 * 86400 }) });
				expect(!long.ok && long.error.code).to.equal('auth_invalid_claims');
			} finally {
				client.close();
			}
		});

		it('admin tokens verify only with the admin key: an admin token signed with JWT_SECRET is refused', async () => {
			expect(await rest(sfu, await sign({ role: 'admin', sub: 'it-admin' }, { ...good, secret: ADMIN_SECRET }))).to.equal(200);
			expect(await rest(sfu, await sign({ role: 'admin', sub: 'forged-admin' }, good))).to.equal(401);
			// The admin key makes admins only: a host token signed with it is refused.
			expect(await rest(sfu, await sign({ role: 'host', room, sub: 'odd-host' }, { ...good, secret: ADMIN_SECRET }))).to.equal(401);
			expect(await handshake(sfu.url, await sign({ room, role: 'host' }, { ...good, secret: ADMIN_SECRET }))).to.equal('auth_invalid_token');
			// A portal's host token still works over REST (its own room).
			expect(await rest(sfu, await sign({ role: 'host', room, sub: 'the-host' }, good))).to.equal(200);
		});

		it('serves dev tokens (demo) that pass its own audience and issuer checks', async () => {
			const demo = await startSfu({ DEMO: '1', JWT_AUDIENCE: 'sfu.example.org', JWT_ISSUER: 'portal.example.org' });
			try {
				const { token } = (await (await fetch(`${demo.url}/api/dev/token?room=${room}&role=host`)).json()) as { token: string };
				expect(await handshake(demo.url, token)).to.equal('accepted');
			} finally {
				await demo.close();
			}
		});
	});

	describe('defaults (existing contract)', () => {
		let sfu: TestSfu;
		before(async () => {
			sfu = await startSfu();
		});
		after(async () => sfu?.close());

		it('without an admin key, admin tokens still verify with JWT_SECRET; tokens over 24 h are refused', async () => {
			expect(await rest(sfu, await mintToken({ room: 'any', role: 'admin' as 'host' }))).to.equal(200);
			expect(await handshake(sfu.url, await mintToken({ room: 'r', role: 'clinician', ttl: 2 * 86400 }))).to.equal('auth_invalid_claims');
			expect(await handshake(sfu.url, await mintToken({ room: 'r', role: 'clinician', ttl: 3600 }))).to.equal('accepted');
		});

		it('a removed participant presenting the very same token again is refused for the room’s life', async () => {
			const room = 'same-token-room';
			const host = await TestClient.connect(sfu.url, { token: await mintToken({ room, role: 'host', waitingRoom: false }) });
			const token = await mintToken({ room, role: 'clinician', sub: 'removed-once' });
			const member = await TestClient.connect(sfu.url, { token });
			try {
				await host.ok('join', { protocolVersion: 1 });
				const { peerId } = await member.ok('join', { protocolVersion: 1 });
				await host.ok('removePeer', { peerId });
				await member.waitForNotification('kicked', (d) => d.reason === 'removed');
				const back = await TestClient.connect(sfu.url, { token });
				try {
					const refused = await back.request('join', { protocolVersion: 1 });
					expect(!refused.ok && refused.error.code).to.equal('removed');
				} finally {
					back.close();
				}
			} finally {
				member.close();
				host.close();
			}
		});
	});
});
