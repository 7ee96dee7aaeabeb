import { expect } from 'chai';
import { SignJWT, generateKeyPair, exportSPKI } from 'jose';
import { mintToken, startSfu, TestClient, type TestSfu } from '../support/sfu.js';

async function refusal(url: string, auth: Record<string, unknown> | undefined): Promise<{ code: string; message: string }> {
	try {
		const client = await TestClient.connect(url, auth);
		client.close();
	} catch (error) {
		return (error as { data: { code: string; message: string } }).data;
	}
	throw new Error('connection was accepted');
}

describe('signaling: join tokens', () => {
	let sfu: TestSfu;
	before(async () => {
		sfu = await startSfu();
	});
	after(() => sfu.close());

	it('refuses a connection without a token', async () => {
		expect((await refusal(sfu.url, undefined)).code).to.equal('auth_missing_token');
		expect((await refusal(sfu.url, { room: 'r1' })).code).to.equal('auth_missing_token');
	});

	it('refuses a malformed token', async () => {
		const error = await refusal(sfu.url, { token: 'not.a.jwt' });
		expect(error.code).to.equal('auth_invalid_token');
		expect(error.message).to.be.a('string').and.not.empty;
	});

	it('refuses a token signed with another secret', async () => {
		const token = await mintToken({ room: 'r1', role: 'clinician' }, 'some-other-secret-0123456789');
		expect((await refusal(sfu.url, { token })).code).to.equal('auth_invalid_token');
	});

	it('refuses an unsigned (alg none) token', async () => {
		const header = Buffer.from(JSON.stringify({ alg: 'none', typ: 'JWT' })).toString('base64url');
		const body = Buffer.from(JSON.stringify({ sub: 'x', room: 'r1', role: 'host', name: 'X', exp: Math.floor(Date.now() / 1000) + 60 })).toString('base64url');
		expect((await refusal(sfu.url, { token: `${header}.${body}.` })).code).to.equal('auth_invalid_token');
	});

	it('refuses an expired token', async () => {
		const token = await mintToken({ room: 'r1', role: 'clinician', ttl: -120 });
		expect((await refusal(sfu.url, { token })).code).to.equal('auth_token_expired');
	});

	it('refuses a token for another room', async () => {
		const token = await mintToken({ room: 'r1', role: 'clinician' });
		expect((await refusal(sfu.url, { token, room: 'r2' })).code).to.equal('auth_wrong_room');
	});

	it('refuses a token with invalid claims', async () => {
		expect((await refusal(sfu.url, { token: await mintToken({ room: 'r1', role: 'admin' as 'host' }) })).code).to.equal('auth_invalid_claims');
		expect((await refusal(sfu.url, { token: await mintToken({ room: 'bad room/../x', role: 'host' }) })).code).to.equal('auth_invalid_claims');
		const noExp = await new SignJWT({ room: 'r1', role: 'host', name: 'X' })
			.setProtectedHeader({ alg: 'HS256' })
			.setSubject('u')
			.sign(new TextEncoder().encode('test-secret-0123456789abcdef'));
		expect((await refusal(sfu.url, { token: noExp })).code).to.equal('auth_invalid_claims');
	});

	it('accepts a valid token for its room and joins that room', async () => {
		const token = await mintToken({ room: 'auth-ok', role: 'clinician' });
		const client = await TestClient.connect(sfu.url, { token, room: 'auth-ok' });
		try {
			const join = await client.ok('join', { protocolVersion: 1 });
			expect(join.waiting).to.equal(false);
			expect(join.room.id).to.equal('auth-ok');
		} finally {
			client.close();
		}
	});

	it('never logs the token', async () => {
		const token = await mintToken({ room: 'auth-log', role: 'host', name: 'Dr. Secret Name' });
		const client = await TestClient.connect(sfu.url, { token });
		await client.ok('join', { protocolVersion: 1 });
		client.close();
		await refusal(sfu.url, { token: `${token}x` });
		const text = JSON.stringify(sfu.logs);
		expect(text).to.not.include(token.split('.')[2]!);
		expect(text).to.not.include('Dr. Secret Name');
	});
});

describe('signaling: public-key tokens (EdDSA)', () => {
	let sfu: TestSfu;
	let privateKey: Awaited<ReturnType<typeof generateKeyPair>>["privateKey"];
	before(async () => {
		const pair = await generateKeyPair('EdDSA', { crv: 'Ed25519' });
		privateKey = pair.privateKey;
		sfu = await startSfu({ JWT_SECRET: '', JWT_PUBLIC_KEY: await exportSPKI(pair.publicKey) });
	});
	after(() => sfu.close());

	it('verifies tokens signed with the matching private key and refuses HS256 ones', async () => {
		const token = await new SignJWT({ room: 'pk', role: 'clinician', name: 'K' })
			.setProtectedHeader({ alg: 'EdDSA' })
			.setSubject('pk-user')
			.setExpirationTime('5m')
			.sign(privateKey);
		const client = await TestClient.connect(sfu.url, { token });
		expect((await client.ok('join', { protocolVersion: 1 })).waiting).to.equal(false);
		client.close();
		expect((await refusal(sfu.url, { token: await mintToken({ room: 'pk', role: 'host' }) })).code).to.equal('auth_invalid_token');
	});
});
