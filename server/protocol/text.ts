/**
 * Free text that crosses the trust boundary (display names, device names,
 * user ids, URLs) ends up in log lines, audit entries, file names and SDP.
 * A CR/LF there forges a log line or an SDP attribute, a NUL truncates a file
 * name in C code (ffmpeg), and bidirectional overrides make a name read
 * differently from what it is ("Trojan Source"). One refinement refuses them
 * everywhere, with the same message, so clients get a stable `invalid_payload`
 * / `invalid_request` / `auth_invalid_claims` and nothing raw reaches a log.
 */
import { z } from 'zod';

/**
 * C0 controls (NUL, TAB, CR, LF, ESC…), DEL, C1 controls, the Unicode line and
 * paragraph separators, and the bidirectional embedding/override/isolate marks.
 * Ordinary letters of every script (Vietnamese diacritics included) and emoji
 * joiners pass.
 */
// eslint-disable-next-line no-control-regex -- matching control characters is the point
export const UNSAFE_TEXT = /[\u0000-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/;

export const UNSAFE_TEXT_MESSAGE = 'must not contain control characters';

/** True when `value` holds none of {@link UNSAFE_TEXT}. */
export function isSafeText(value: string): boolean {
	return !UNSAFE_TEXT.test(value);
}

// eslint-disable-next-line no-control-regex -- the same set, as a whole-string pattern
export const SAFE_TEXT = /^[^\u0000-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]*$/;

/** A string of 1…`max` characters without control characters. */
export function safeText(max: number): z.ZodString {
	return z.string().min(1).max(max).regex(SAFE_TEXT, UNSAFE_TEXT_MESSAGE);
}
