/**
 * Reads the `name` claim of a join token, for this participant's own display
 * name (the join answer carries the others' names, not ours). No
 * verification: the server verifies; this is for display only.
 */
export function displayNameFromToken(token: string): string {
	const payload = token.split('.')[1];
	if (!payload) return '';
	try {
		const base64 = payload.replace(/-/g, '+').replace(/_/g, '/').padEnd(Math.ceil(payload.length / 4) * 4, '=');
		const bytes = Uint8Array.from(atob(base64), (c) => c.charCodeAt(0));
		const claims = JSON.parse(new TextDecoder().decode(bytes)) as { name?: unknown };
		return typeof claims.name === 'string' ? claims.name : '';
	} catch {
		return '';
	}
}
