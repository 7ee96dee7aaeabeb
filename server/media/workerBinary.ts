import { accessSync, constants } from 'node:fs';
import * as mediasoup from 'mediasoup';

/**
 * The mediasoup-worker binary mediasoup will spawn. Throws with the fix in the
 * message when it is missing, instead of mediasoup's bare spawn ENOENT.
 */
export function assertWorkerBinary(): string {
	const bin = mediasoup.workerBin;
	try {
		accessSync(bin, constants.X_OK);
	} catch {
		throw new Error(`mediasoup worker binary not found or not executable at ${bin}; run "npm run build:worker"`);
	}
	return bin;
}
