import { createRequire } from 'node:module';
import path from 'node:path';
import type { TemplatedApp, us_listen_socket } from '@trufflesuite/uws-js-unofficial';

type UwsModule = typeof import('@trufflesuite/uws-js-unofficial');

const require = createRequire(import.meta.url);
const PACKAGE = '@trufflesuite/uws-js-unofficial';

/** The loaded native uWebSockets.js addon and where it came from. */
export interface NativeUws {
	uws: UwsModule;
	/** Absolute path of the .node binary that was loaded. */
	binaryPath: string;
}

/**
 * Loads uWebSockets.js's native binary for this Node ABI directly. The
 * package's own entry silently falls back to a slow pure-JS imitation when
 * the binary does not load; we would rather fail loudly at startup.
 */
export function loadNativeUws(): NativeUws {
	const packageDir = path.dirname(require.resolve(`${PACKAGE}/package.json`));
	const binaryPath = path.join(packageDir, 'binaries', `uws_${process.platform}_${process.arch}_${process.versions.modules}.node`);
	try {
		return { uws: require(binaryPath) as UwsModule, binaryPath };
	} catch (error) {
		throw new Error(`uWebSockets.js has no native binary for this platform/Node (${path.basename(binaryPath)}): ${(error as Error).message}`, { cause: error });
	}
}

/** A uWebSockets.js app listening on its own port. */
export interface UwsListener {
	app: TemplatedApp;
	port: number;
	close(): void;
}

export async function listenUws(native: NativeUws, host: string, port: number): Promise<UwsListener> {
	const app = native.uws.App();
	const socket = await new Promise<us_listen_socket>((resolve, reject) => {
		app.listen(host, port, (listenSocket) => (listenSocket ? resolve(listenSocket) : reject(new Error(`uWebSockets.js cannot listen on ${host}:${port}`))));
	});
	let closed = false;
	return {
		app,
		port: native.uws.us_socket_local_port(socket),
		close: () => {
			if (closed) return;
			closed = true;
			native.uws.us_listen_socket_close(socket);
		},
	};
}
