import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import puppeteer, { type Browser, type Page } from 'puppeteer-core';

export const CHROMIUM = process.env['CHROMIUM_PATH'] ?? '/usr/bin/chromium';

/** Flags that let headless Chromium do WebRTC with fake devices on a loopback-only host. */
export const CHROMIUM_ARGS = [
	'--headless',
	'--no-sandbox',
	'--disable-gpu',
	'--disable-quic',
	'--no-first-run',
	'--disable-background-networking',
	'--disable-component-update',
	'--disable-sync',
	'--use-fake-ui-for-media-stream',
	'--use-fake-device-for-media-stream',
	'--allow-loopback-in-peer-connection',
	'--autoplay-policy=no-user-gesture-required',
];

/** A Chromium with its own profile directory; close() removes both. */
export interface TestBrowser {
	browser: Browser;
	newPage(): Promise<Page>;
	/** Console errors and page errors seen on any page. */
	errors: string[];
	close(): Promise<void>;
}

export async function launchBrowser(
	extraArgs: string[] = [],
	options: {
		/** Program to run instead of Chromium (e.g. a wrapper that starts it in a network namespace). */
		executablePath?: string;
		/** Speak DevTools over a pipe instead of a local port (needed when Chromium runs in another network namespace). */
		pipe?: boolean;
	} = {},
): Promise<TestBrowser> {
	const profile = mkdtempSync(path.join(tmpdir(), 'sfu-chromium-'));
	const browser = await puppeteer.launch({
		executablePath: options.executablePath ?? CHROMIUM,
		pipe: options.pipe ?? false,
		args: [...CHROMIUM_ARGS, `--user-data-dir=${profile}`, ...extraArgs],
		headless: true,
		protocolTimeout: 60_000,
	});
	const errors: string[] = [];
	return {
		browser,
		errors,
		async newPage() {
			const page = await browser.newPage();
			page.on('console', (message) => {
				if (message.type() === 'error') errors.push(message.text());
			});
			page.on('pageerror', (error) => errors.push(String(error)));
			return page;
		},
		async close() {
			try {
				await browser.close();
			} finally {
				browser.process()?.kill('SIGKILL');
				rmSync(profile, { recursive: true, force: true });
			}
		},
	};
}
