import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync, sign, verify, type KeyObject } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';

/**
 * The node's Ed25519 key: signs recording manifests (and the audit trail's
 * chain heads). Created on first use with mode 0600; its public half is
 * written beside it for verifiers.
 */
export class SigningKey {
	readonly #private: KeyObject;
	readonly publicKey: KeyObject;
	/** Hex SHA-256 of the public key's DER: names the key in manifests. */
	readonly keyId: string;

	static loadOrCreate(file: string): SigningKey {
		if (!existsSync(file)) {
			mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
			const { privateKey } = generateKeyPairSync('ed25519');
			writeFileSync(file, privateKey.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600, flag: 'wx' });
		}
		const key = new SigningKey(createPrivateKey(readFileSync(file)));
		const publicFile = publicKeyFileFor(file);
		if (!existsSync(publicFile)) writeFileSync(publicFile, key.publicKeyPem(), { mode: 0o644 });
		return key;
	}

	private constructor(privateKey: KeyObject) {
		if (privateKey.asymmetricKeyType !== 'ed25519') throw new Error('the signing key must be Ed25519');
		this.#private = privateKey;
		this.publicKey = createPublicKey(privateKey);
		this.keyId = keyIdOf(this.publicKey);
	}

	publicKeyPem(): string {
		return this.publicKey.export({ type: 'spki', format: 'pem' }).toString();
	}

	/** Base64 Ed25519 signature of `data`. */
	sign(data: string): string {
		return sign(null, Buffer.from(data, 'utf8'), this.#private).toString('base64');
	}
}

/** Where the public half of a private key file is written. */
export function publicKeyFileFor(privateKeyFile: string): string {
	return privateKeyFile.replace(/(\.pem)?$/, '.pub.pem');
}

export function keyIdOf(publicKey: KeyObject): string {
	return createHash('sha256').update(publicKey.export({ type: 'spki', format: 'der' })).digest('hex');
}

export function verifySignature(publicKey: KeyObject, data: string, signature: string): boolean {
	try {
		return verify(null, Buffer.from(data, 'utf8'), publicKey, Buffer.from(signature, 'base64'));
	} catch {
		return false;
	}
}
