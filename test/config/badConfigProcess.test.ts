import { expect } from 'chai';
import { runServer } from '../support/serverProcess.js';

describe('config: the server process with bad configuration', () => {
	for (const [name, value] of [
		['PORT', 'not-a-port'],
		['MEDIASOUP_NUM_WORKERS', '0'],
		['LOG_LEVEL', 'chatty'],
	] as const) {
		it(`exits 2 with one line naming ${name}`, async () => {
			const run = runServer({ [name]: value });
			const code = await run.exited;
			expect(code).to.equal(2);
			const lines = run.stderr().trim().split('\n');
			expect(lines).to.have.length(1);
			expect(lines[0]).to.match(new RegExp(`^Invalid configuration: ${name}: `));
			expect(run.stdout()).to.equal('');
		});
	}
});
