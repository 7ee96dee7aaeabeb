import { expect } from 'chai';
import { RequestSchemas, HandshakeAuthSchema, isSafeText } from '../../server/protocol/index.js';
import { JoinClaimsSchema } from '../../server/auth/index.js';
import { mintToken, startSfu, TestClient, type TestSfu } from '../support/sfu.js';

/** What an attacker puts in a name to forge a log line, an SDP attribute or a file name. */
const MARKER = 'FORGEDLINE';
const INJECTIONS = [`Dr\r\n{"level":30,"msg":"${MARKER}"}`, `Dr\n${MARKER}`, `Dr\u0000${MARKER}`, `Dr\u001b[31m${MARKER}`, `Dr\u202e${MARKER}`, `Dr\u2028${MARKER}`];

async function handshake(url: string, auth: Record<string, unknown>): Promise<string> {
	try {
		const client = await TestClient.connect(url, auth);
		client.close();
		return 'accepted';
	} catch (error) {
		return (error as { data?: { code?: string } }).data?.code ?? 'transport error';
	}
}

describe('security: control characters in names, ids and reasons', function () {
	this.timeout(60_000);

	it('safeText refuses C0/C1 controls, line separators and bidi overrides, and keeps every script', () => {
		for (const text of INJECTIONS) expect(isSafeText(text), JSON.stringify(text)).to.equal(false);
		for (const text of ['Phạm Thị Dung', 'Nguyễn Văn Ánh', 'د. سارة', '王医生', 'Dr. O’Brien-Smith', '👩‍⚕️ Dr. A']) expect(isSafeText(text), text).to.equal(true);
		const base = { sub: 'u1', room: 'r1', role: 'host', exp: 1 };
		for (const name of INJECTIONS) expect(JoinClaimsSchema.safeParse({ ...base, name }).success).to.equal(false);
		expect(JoinClaimsSchema.safeParse({ ...base, name: 'x', sub: 'a\nb' }).success).to.equal(false);
		expect(RequestSchemas.addIngestSource.safeParse({ url: 'rtsp://cam/1', name: 'Tower\r\n1' }).success).to.equal(false);
		expect(RequestSchemas.addIngestSource.safeParse({ url: 'rtsp://cam/1\r\na=x' }).success).to.equal(false);
		expect(HandshakeAuthSchema.safeParse({ token: 'a.b.c', room: 'r\r\n1' }).success).to.equal(false);
		expect(HandshakeAuthSchema.safeParse({ token: 'a.b\u0000.c' }).success).to.equal(false);
	});

	describe('against a running server', () => {
		let sfu: TestSfu;
		before(async () => {
			sfu = await startSfu({ DEMO: '1', ROOM_WAITING_ROOM: 'false' });
		});
		after(async () => sfu?.close());

		it('refuses tokens whose name, sub or room holds control characters, with stable codes', async () => {
			for (const name of INJECTIONS) {
				expect(await handshake(sfu.url, { token: await mintToken({ room: 'cc-room', role: 'clinician', name }) }), JSON.stringify(name)).to.equal('auth_invalid_claims');
			}
			expect(await handshake(sfu.url, { token: await mintToken({ room: 'cc-room', role: 'clinician', sub: `u\r\n${MARKER}` }) })).to.equal('auth_invalid_claims');
			expect(await handshake(sfu.url, { token: await mintToken({ room: `cc\u0000${MARKER}`, role: 'clinician' }) })).to.equal('auth_invalid_claims');
			expect(await handshake(sfu.url, { token: await mintToken({ room: 'cc-room', role: 'clinician' }), room: `cc-room\r\n${MARKER}` })).to.equal('auth_invalid_token');
		});

		it('answers requests carrying control characters with invalid_payload, and REST with invalid_request', async () => {
			const host = await TestClient.connect(sfu.url, { token: await mintToken({ room: 'cc-room', role: 'host' }) });
			try {
				await host.ok('join', { protocolVersion: 1 });
				const named = await host.request('addIngestSource', { url: 'rtsp://127.0.0.1:1/x', name: `Tower\r\n${MARKER}` });
				expect(!named.ok && named.error.code).to.equal('invalid_payload');
				const url = await host.request('addIngestSource', { url: `rtsp://127.0.0.1:1/x\r\n${MARKER}` });
				expect(!url.ok && url.error.code).to.equal('invalid_payload');
				const refresh = await host.request('refreshToken', { token: `a.b\u0000${MARKER}.c` });
				expect(!refresh.ok && refresh.error.code).to.equal('invalid_payload');
			} finally {
				host.close();
			}
			const dev = await fetch(`${sfu.url}/api/dev/token?room=cc-room&role=host&name=${encodeURIComponent(`Dr\r\n${MARKER}`)}`);
			expect(dev.status).to.equal(400);
			expect(((await dev.json()) as { error: { code: string } }).error.code).to.equal('invalid_request');
			const admin = await mintToken({ room: 'any', role: 'admin' as 'host' });
			const audit = await fetch(`${sfu.url}/api/audit?sub=${encodeURIComponent(`a\n${MARKER}`)}`, { headers: { authorization: `Bearer ${admin}` } });
			expect(audit.status).to.equal(400);
			const recording = await fetch(`${sfu.url}/api/recordings/${encodeURIComponent(`r\u0000${MARKER}`)}`, { headers: { authorization: `Bearer ${admin}` } });
			expect([400, 404]).to.include(recording.status);
		});

		it('wrote none of it to the logs or the audit trail', async () => {
			await sfu.server.audit!.log!.flush();
			const logs = JSON.stringify(sfu.logs);
			expect(logs).to.not.include(MARKER);
			const { readdirSync, readFileSync } = await import('node:fs');
			const path = await import('node:path');
			const dir = sfu.server.audit!.log!.dir;
			const trail = readdirSync(dir)
				.map((file) => readFileSync(path.join(dir, file), 'utf8'))
				.join('');
			expect(trail).to.not.include(MARKER);
		});
	});
});
