import { expect } from 'chai';
import { request } from 'node:http';
import { mintToken, startSfu, type TestSfu } from '../support/sfu.js';

/** A raw HTTP request (fetch refuses some of the malformed ones we want to send). */
function raw(port: number, method: string, path: string, headers: Record<string, string>, body?: string | Buffer): Promise<{ status: number; body: string }> {
	return new Promise((resolve, reject) => {
		const req = request({ host: '127.0.0.1', port, method, path, headers }, (res) => {
			let text = '';
			res.setEncoding('utf8').on('data', (chunk: string) => (text += chunk));
			res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
		});
		req.on('error', reject);
		if (body !== undefined) req.write(body);
		req.end();
	});
}

describe('security: bad HTTP input', function () {
	this.timeout(60_000);
	let sfu: TestSfu;
	let host: string;
	let admin: string;
	before(async () => {
		sfu = await startSfu({ DEMO: '1' });
		host = await mintToken({ room: 'http-room', role: 'host' });
		admin = await mintToken({ room: 'x', role: 'admin' as 'host' });
	});
	after(() => sfu.close());

	it('answers bad JSON, wrong types, huge bodies and path tricks with stable codes and no internals', async () => {
		const port = sfu.server.port;
		const json = { 'content-type': 'application/json' };
		const cases: { method: string; path: string; headers: Record<string, string>; body?: string | Buffer; status: number[]; code?: string }[] = [
			{ method: 'POST', path: '/api/rooms/http-room/recordings', headers: { ...json, authorization: `Bearer ${host}` }, body: '{ not json', status: [400], code: 'invalid_json' },
			{ method: 'POST', path: '/api/rooms/http-room/recordings', headers: { ...json, authorization: `Bearer ${host}` }, body: '{"requireConsent":"yes"}', status: [400], code: 'invalid_request' },
			{ method: 'POST', path: '/api/rooms/http-room/recordings', headers: { ...json, authorization: `Bearer ${host}` }, body: JSON.stringify({ pad: 'x'.repeat(200_000) }), status: [413], code: 'payload_too_large' },
			{ method: 'POST', path: '/api/rooms/http-room/recordings', headers: { 'content-type': 'application/xml', authorization: `Bearer ${host}` }, body: '<a/>', status: [415], code: 'unsupported_media_type' },
			{ method: 'POST', path: '/api/rooms/..%2F..%2Fetc/recordings', headers: { ...json, authorization: `Bearer ${admin}` }, body: '{}', status: [400, 404] },
			{ method: 'GET', path: '/api/recordings/%2e%2e%2f%2e%2e%2fkeys/files/signing-ed25519.pem', headers: { authorization: `Bearer ${admin}` }, status: [400, 404] },
			{ method: 'GET', path: '/api/recordings?room=../../etc', headers: { authorization: `Bearer ${admin}` }, status: [400], code: 'invalid_request' },
			{ method: 'GET', path: '/api/recordings', headers: { authorization: 'Bearer ' + 'A'.repeat(10_000) }, status: [401] },
			{ method: 'GET', path: '/api/recordings', headers: { authorization: 'Basic dXNlcjpwYXNz' }, status: [401], code: 'unauthorized' },
			{ method: 'GET', path: '/api/dev/token?room=' + 'r'.repeat(5000), headers: {}, status: [400], code: 'invalid_request' },
			{ method: 'GET', path: '/demo/%00', headers: {}, status: [400, 404] },
			{ method: 'DELETE', path: '/healthz', headers: {}, status: [404], code: 'not_found' },
			{ method: 'POST', path: '/internal/pipes', headers: { 'content-type': 'text/plain' }, body: '{}', status: [401, 404] },
		];
		for (const c of cases) {
			const answer = await raw(port, c.method, c.path, c.headers, c.body);
			expect(c.status, `${c.method} ${c.path.slice(0, 60)} → ${answer.status} ${answer.body.slice(0, 120)}`).to.include(answer.status);
			if (c.code) expect((JSON.parse(answer.body) as { error: { code: string } }).error.code, c.path).to.equal(c.code);
			expect(answer.body).to.not.match(/at .*\.(ts|js):\d+|PRIVATE KEY|node_modules/);
		}
		expect(((await (await fetch(`${sfu.url}/healthz`)).json()) as { status: string }).status).to.equal('ok');
	});
});
