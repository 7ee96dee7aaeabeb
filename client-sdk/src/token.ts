import type { Role } from './protocol.js';

/** The claims of a join token the SDK reads for display. */
export interface TokenClaims {
	name?: string;
	role?: Role;
}

const ROLES: readonly string[] = ['host', 'clinician', 'patient', 'observer', 'device'] satisfies Role[];

/**
 * Reads the `name` and `role` claims of a join token: this participant's own
 * display name (the join answer carries only the others'), and its role
 * while it waits for admission (the waiting answer has none). No
 * verification: the server verifies; this is for display only.
 */
export function claimsFromToken(token: string): TokenClaims {
	const payload = token.split('.')[1];
	if (!payload) return {};
	try {
		const base64 = payload.replace(/-/g, '+').replace(/_/g, '/').padEnd(Math.ceil(payload.length / 4) * 4, '=');
		const bytes = Uint8Array.from(atob(base64), (c) => c.charCodeAt(0));
		const claims = JSON.parse(new TextDecoder().decode(bytes)) as { name?: unknown; role?: unknown };
		const out: TokenClaims = {};
		if (typeof claims.name === 'string') out.name = claims.name;
		if (typeof claims.role === 'string' && ROLES.includes(claims.role)) out.role = claims.role as Role;
		return out;
	} catch {
		return {};
	}
}
