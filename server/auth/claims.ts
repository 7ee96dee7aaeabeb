import { z } from 'zod';
import { ROLES, RoomIdSchema, safeText } from '../protocol/index.js';

/**
 * Claims of a join token minted by a portal (the portal contract):
 * `sub` opaque user id, `room` room id, `role`, `name` display name, `exp`.
 * Optional `waitingRoom` and `roomType` on the token that creates a room set its policy.
 */
export const JoinClaimsSchema = z.object({
	sub: safeText(256),
	room: RoomIdSchema,
	role: z.enum(ROLES),
	name: safeText(128),
	exp: z.number().int(),
	iat: z.number().int().optional(),
	waitingRoom: z.boolean().optional(),
	/** On the token that creates a room: 'consult' (default) or 'broadcast' (grand rounds). */
	roomType: z.enum(['consult', 'broadcast']).optional(),
});

export type JoinClaims = z.infer<typeof JoinClaimsSchema>;

/**
 * Claims of a REST bearer token: a portal's join token (a host acts on its
 * own room) or an admin token (`role: "admin"`, no room needed).
 */
export const ApiClaimsSchema = z.object({
	sub: safeText(256),
	role: z.enum([...ROLES, 'admin']),
	room: RoomIdSchema.optional(),
	exp: z.number().int(),
});

export type ApiClaims = z.infer<typeof ApiClaimsSchema>;
