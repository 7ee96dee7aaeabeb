export { TokenVerifier } from './TokenVerifier.js';
export type { TokenVerifierOptions } from './TokenVerifier.js';
export { AuthError } from './AuthError.js';
export type { AuthErrorCode } from './AuthError.js';
export { ApiClaimsSchema, JoinClaimsSchema } from './claims.js';
export type { ApiClaims, JoinClaims } from './claims.js';
export { canConsume, canModerate, canPublish, waitsForAdmission } from './permissions.js';
