/**
 * Schemas of the RTP and DTLS parameters clients send (mediasoup-client's
 * shapes), bounded so a payload cannot make the server allocate without limit.
 */
import { z } from 'zod';

/**
 * A control character (C0 or DEL) anywhere in RTP parameters: CR/LF in a codec
 * parameter would otherwise reach the SDP the recorder reads and add lines of
 * the sender's choosing (another connection address, another direction).
 */
function hasControlCharacter(text: string): boolean {
	for (let i = 0; i < text.length; i++) {
		const code = text.charCodeAt(i);
		if (code < 0x20 || code === 0x7f) return true;
	}
	return false;
}

/** Path of the first string (key or value) holding a control character, or null. */
function controlCharacterAt(value: unknown, at: (string | number)[] = []): (string | number)[] | null {
	if (typeof value === 'string') return hasControlCharacter(value) ? at : null;
	if (Array.isArray(value)) {
		for (const [index, item] of value.entries()) {
			const found = controlCharacterAt(item, [...at, index]);
			if (found) return found;
		}
		return null;
	}
	if (value && typeof value === 'object') {
		for (const [key, item] of Object.entries(value)) {
			if (hasControlCharacter(key)) return [...at, key];
			const found = controlCharacterAt(item, [...at, key]);
			if (found) return found;
		}
	}
	return null;
}

/** Refuses control characters in every string of the value, loose keys included. */
function noControlCharacters(value: unknown, ctx: z.RefinementCtx): void {
	const path = controlCharacterAt(value);
	if (path) ctx.addIssue({ code: 'custom', message: 'must not contain control characters', path });
}

const ShortString = z.string().max(256);
const Int = z.number().int();
const CodecParameters = z.record(z.string().max(64), z.union([z.string().max(256), z.number()]));
const RtcpFeedback = z.object({ type: z.string().max(32), parameter: z.string().max(32).optional() });

const RtpCodecCapability = z.looseObject({
	kind: z.enum(['audio', 'video']),
	mimeType: z.string().max(64),
	preferredPayloadType: Int.min(0).max(127).optional(),
	clockRate: Int.positive(),
	channels: Int.min(1).max(8).optional(),
	parameters: CodecParameters.optional(),
	rtcpFeedback: z.array(RtcpFeedback).max(16).optional(),
});

const HeaderExtensionCapability = z.looseObject({
	kind: z.enum(['audio', 'video']),
	uri: ShortString,
	preferredId: Int.min(1).max(255),
	preferredEncrypt: z.boolean().optional(),
	direction: z.enum(['sendrecv', 'sendonly', 'recvonly', 'inactive']).optional(),
});

/** A device's receive capabilities (mediasoup-client `device.rtpCapabilities`). */
export const RtpCapabilitiesSchema = z
	.looseObject({
		codecs: z.array(RtpCodecCapability).max(64).optional(),
		headerExtensions: z.array(HeaderExtensionCapability).max(64).optional(),
	})
	.superRefine(noControlCharacters);

const RtpCodecParameters = z.looseObject({
	mimeType: z.string().max(64),
	payloadType: Int.min(0).max(127),
	clockRate: Int.positive(),
	channels: Int.min(1).max(8).optional(),
	parameters: CodecParameters.optional(),
	rtcpFeedback: z.array(RtcpFeedback).max(16).optional(),
});

const RtpEncodingParameters = z.looseObject({
	ssrc: Int.nonnegative().optional(),
	rid: z.string().max(32).optional(),
	codecPayloadType: Int.min(0).max(127).optional(),
	rtx: z.object({ ssrc: Int.nonnegative() }).optional(),
	dtx: z.boolean().optional(),
	scalabilityMode: z.string().max(16).optional(),
	scaleResolutionDownBy: z.number().positive().max(64).optional(),
	maxBitrate: Int.positive().optional(),
	maxFramerate: z.number().positive().max(240).optional(),
	active: z.boolean().optional(),
});

/** What a sender will send (mediasoup-client `producer.rtpParameters`). */
export const RtpParametersSchema = z
	.looseObject({
		mid: z.string().max(32).optional(),
		codecs: z.array(RtpCodecParameters).min(1).max(16),
		headerExtensions: z
			.array(z.looseObject({ uri: ShortString, id: Int.min(1).max(255), encrypt: z.boolean().optional(), parameters: CodecParameters.optional() }))
			.max(32)
			.optional(),
		encodings: z.array(RtpEncodingParameters).min(1).max(8).optional(),
		rtcp: z.looseObject({ cname: z.string().max(256).optional(), reducedSize: z.boolean().optional(), mux: z.boolean().optional() }).optional(),
	})
	.superRefine(noControlCharacters);

export const DtlsParametersSchema = z.object({
	role: z.enum(['auto', 'client', 'server']).optional(),
	fingerprints: z
		.array(z.object({ algorithm: z.enum(['sha-1', 'sha-224', 'sha-256', 'sha-384', 'sha-512']), value: z.string().min(1).max(256) }))
		.min(1)
		.max(8),
});

