import { expect } from 'chai';
import { opusParameters } from '../support/media.js';
import { mintToken, startSfu, TestClient, type TestSfu } from '../support/sfu.js';

describe('signaling: request validation and state errors', () => {
	let sfu: TestSfu;
	let client: TestClient;
	before(async () => {
		sfu = await startSfu({ SIGNALING_REQUESTS_PER_SECOND: '1000' });
	});
	after(() => sfu.close());
	beforeEach(async () => {
		client = await TestClient.connect(sfu.url, { token: await mintToken({ room: 'requests', role: 'clinician' }) });
	});
	afterEach(() => client.close());

	it('answers an unknown method with unknown_method', async () => {
		const result = await client.raw('makeCoffee', {});
		expect(result).to.deep.include({ ok: false });
		expect(!result.ok && result.error.code).to.equal('unknown_method');
	});

	it('answers requests before join with not_joined', async () => {
		for (const [method, payload] of [
			['createTransport', { direction: 'send' }],
			['consume', { producerId: 'abc' }],
			['endRoom', {}],
		] as const) {
			const result = await client.raw(method, payload);
			expect(!result.ok && result.error.code, method).to.equal('not_joined');
		}
	});

	it('refuses another protocol version, then accepts v1 once', async () => {
		const old = await client.request('join', { protocolVersion: 0 });
		expect(!old.ok && old.error.code).to.equal('unsupported_protocol_version');
		expect((await client.request('join', { protocolVersion: 1 })).ok).to.equal(true);
		const again = await client.request('join', { protocolVersion: 1 });
		expect(!again.ok && again.error.code).to.equal('already_joined');
	});

	it('answers each class of malformed payload with invalid_payload', async () => {
		await client.ok('join', { protocolVersion: 1 });
		const cases: [string, unknown][] = [
			['createTransport', undefined],
			['createTransport', null],
			['createTransport', 'send'],
			['createTransport', { direction: 'sideways' }],
			['createTransport', { direction: 'send', extra: true }],
			['connectTransport', { transportId: 42, dtlsParameters: {} }],
			['connectTransport', { transportId: 'x'.repeat(10_000), dtlsParameters: { fingerprints: [] } }],
			['produce', { transportId: 'a', kind: 'audio', rtpParameters: { codecs: [] }, source: 'microphone' }],
			['produce', { transportId: 'a', kind: 'audio', rtpParameters: opusParameters(), source: 'hologram' }],
			['setConsumerPreferredLayers', { consumerId: 'a', spatialLayer: -1 }],
			['setConsumerPriority', { consumerId: 'a', priority: 1000 }],
			['consume', { producerId: { $ne: null } }],
			['consume', Buffer.from([0xde, 0xad, 0xbe, 0xef])],
			['admit', { peerId: '../../etc/passwd' }],
			['join', { protocolVersion: 1, rtpCapabilities: { codecs: 'all of them' } }],
		];
		for (const [method, payload] of cases) {
			const result = await client.raw(method, payload);
			expect(!result.ok && result.error.code, `${method} ${JSON.stringify(payload)?.slice(0, 80)}`).to.equal('invalid_payload');
			expect(!result.ok && result.error.message).to.be.a('string').and.not.empty;
		}
	});

	it('answers unknown ids with not_found', async () => {
		await client.ok('join', { protocolVersion: 1 });
		const cases: [string, unknown][] = [
			['connectTransport', { transportId: 'nope', dtlsParameters: { fingerprints: [{ algorithm: 'sha-256', value: 'AB' }] } }],
			['produce', { transportId: 'nope', kind: 'audio', rtpParameters: opusParameters(), source: 'microphone' }],
			['closeProducer', { producerId: 'nope' }],
			['resumeConsumer', { consumerId: 'nope' }],
			['consume', { producerId: 'nope' }],
			['admit', { peerId: 'nope' }],
		];
		await client.ok('setRtpCapabilities', { rtpCapabilities: { codecs: [], headerExtensions: [] } });
		for (const [method, payload] of cases) {
			const result = await client.raw(method, payload);
			expect(!result.ok && result.error.code, method).to.be.oneOf(['not_found', 'forbidden']);
		}
	});

	it('maps parameters mediasoup refuses to media_error', async () => {
		await client.ok('join', { protocolVersion: 1 });
		const send = await client.ok('createTransport', { direction: 'send' });
		const result = await client.request('produce', {
			transportId: send.id,
			kind: 'audio',
			rtpParameters: { ...opusParameters(), codecs: [{ mimeType: 'audio/unknown', payloadType: 100, clockRate: 8000 }] },
			source: 'microphone',
		});
		expect(!result.ok && result.error.code).to.equal('media_error');
	});

	it('ignores events without an acknowledgement and keeps serving', async () => {
		(client.socket as unknown as { emit: (...a: unknown[]) => void }).emit('join', { protocolVersion: 1 });
		(client.socket as unknown as { emit: (...a: unknown[]) => void }).emit('garbage');
		expect((await client.request('join', { protocolVersion: 1 })).ok).to.equal(true);
	});
});

describe('signaling: rate limits', () => {
	let sfu: TestSfu;
	before(async () => {
		sfu = await startSfu({ SIGNALING_REQUESTS_PER_SECOND: '10' });
	});
	after(() => sfu.close());

	it('answers a flood with rate_limited and keeps other sockets unaffected', async () => {
		const flooder = await TestClient.connect(sfu.url, { token: await mintToken({ room: 'flood', role: 'clinician' }) });
		const bystander = await TestClient.connect(sfu.url, { token: await mintToken({ room: 'calm', role: 'clinician' }) });
		try {
			const results = await Promise.all(Array.from({ length: 60 }, () => flooder.raw('join', { protocolVersion: 1 })));
			const codes = results.map((r) => (r.ok ? 'ok' : r.error.code));
			expect(codes.filter((c) => c === 'rate_limited').length).to.be.greaterThan(30);
			expect((await bystander.request('join', { protocolVersion: 1 })).ok).to.equal(true);
		} finally {
			flooder.close();
			bystander.close();
		}
	});
});
