import { mkdirSync } from 'node:fs';
import path from 'node:path';
import type { Page } from 'puppeteer-core';

/** Where test runs leave screenshots of the demo pages (gitignored). */
export const SCREENSHOT_DIR = path.resolve('.test-output/screenshots');

/** Saves a PNG of `page` as `.test-output/screenshots/<name>.png` and returns its path. */
export async function saveScreenshot(page: Page, name: string): Promise<string> {
	mkdirSync(SCREENSHOT_DIR, { recursive: true });
	const file = path.join(SCREENSHOT_DIR, `${name}.png`);
	// A page in a background tab does not paint: bring it to the front first.
	await page.bringToFront();
	await new Promise((resolve) => setTimeout(resolve, 300));
	await page.screenshot({ path: file });
	return file;
}
