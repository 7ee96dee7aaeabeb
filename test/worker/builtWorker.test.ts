import { expect } from 'chai';
import { readFileSync, realpathSync } from 'node:fs';
import path from 'node:path';
import * as mediasoup from 'mediasoup';
import type { types } from 'mediasoup';
import { ROUTER_MEDIA_CODECS } from '../../worker-config/index.js';
import { waitForProcessExit } from '../../server/media/index.js';
import { processName, isAlive } from '../support/processes.js';
import { REPO_ROOT } from '../support/serverProcess.js';

/** The part of Worker.dump() these tests read (mediasoup 3.12 types it `any`). */
interface WorkerDump {
	routerIds: string[];
}

describe('worker: the mediasoup worker built from source', () => {
	let worker: types.Worker;
	let router: types.Router;

	before(async () => {
		worker = await mediasoup.createWorker({ logLevel: 'warn', rtcMinPort: 41000, rtcMaxPort: 41099 });
		router = await worker.createRouter({ mediaCodecs: ROUTER_MEDIA_CODECS });
	});

	after(async () => {
		if (!worker) return;
		if (!worker.closed) worker.close();
		await waitForProcessExit(worker.pid, 5000);
	});

	it('is the cached build that worker-config/build-worker.sh made', () => {
		const built = readFileSync(path.join(REPO_ROOT, 'worker-config/.worker-bin'), 'utf8').trim();
		expect(realpathSync(mediasoup.workerBin)).to.equal(realpathSync(built));
		expect(mediasoup.version).to.equal('3.12.16');
	});

	it('runs as a mediasoup-worker process and reports resource usage', async () => {
		expect(processName(worker.pid)).to.equal('mediasoup-worker');
		const usage = await worker.getResourceUsage();
		expect(usage.ru_maxrss).to.be.greaterThan(0);
		const dump = (await worker.dump()) as WorkerDump;
		expect(dump.routerIds).to.include(router.id);
	});

	it('opens a router with opus, VP8, VP9 and three H.264 profiles', () => {
		const codecs = router.rtpCapabilities.codecs ?? [];
		const mimeTypes = codecs.map((codec) => codec.mimeType);
		for (const mime of ['audio/opus', 'video/VP8', 'video/VP9', 'video/H264']) {
			expect(mimeTypes).to.include(mime);
		}
		const h264Profiles = codecs.filter((c) => c.mimeType === 'video/H264').map((c) => (c.parameters as Record<string, unknown> | undefined)?.['profile-level-id']);
		expect(h264Profiles).to.include.members(['42e01f', '4d0032', '640033']);
		// Every video codec gets an RTX companion: retransmissions on lossy links.
		expect(mimeTypes.filter((m) => m === 'video/rtx')).to.have.length(5);
	});

	it('opens a WebRtcTransport with UDP and TCP candidates and DTLS fingerprints', async () => {
		const transport = await router.createWebRtcTransport({ listenIps: [{ ip: '127.0.0.1' }], enableUdp: true, enableTcp: true, preferUdp: true });
		try {
			const protocols = transport.iceCandidates.map((c) => c.protocol);
			expect(protocols).to.include.members(['udp', 'tcp']);
			for (const candidate of transport.iceCandidates) {
				expect(candidate.ip).to.equal('127.0.0.1');
				expect(candidate.port).to.be.within(41000, 41099);
			}
			expect(transport.iceParameters.usernameFragment).to.be.a('string').and.not.empty;
			expect(transport.dtlsParameters.fingerprints.map((f) => f.algorithm)).to.include('sha-256');
			expect(transport.iceState).to.equal('new');
		} finally {
			transport.close();
		}
		expect(transport.closed).to.equal(true);
	});

	it('opens a PlainTransport and closes it with the router', async () => {
		const scratch = await worker.createRouter({ mediaCodecs: ROUTER_MEDIA_CODECS });
		const transport = await scratch.createPlainTransport({ listenIp: { ip: '127.0.0.1' }, rtcpMux: false, comedia: true });
		expect(transport.tuple.localIp).to.equal('127.0.0.1');
		expect(transport.tuple.localPort).to.be.within(41000, 41099);
		expect(transport.rtcpTuple?.localPort).to.be.within(41000, 41099);
		const routerClosed = new Promise<void>((resolve) => transport.once('routerclose', () => resolve()));
		scratch.close();
		await routerClosed;
		expect(transport.closed).to.equal(true);
		expect(((await worker.dump()) as WorkerDump).routerIds).to.not.include(scratch.id);
	});

	it('exits when closed', async () => {
		const extra = await mediasoup.createWorker({ logLevel: 'warn' });
		expect(isAlive(extra.pid)).to.equal(true);
		extra.close();
		expect(await waitForProcessExit(extra.pid, 5000)).to.equal(true);
	});
});
