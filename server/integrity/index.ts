export { SigningKey, keyIdOf, publicKeyFileFor, verifySignature } from './SigningKey.js';
export { GENESIS, canonical, entryHash, hashFile, sha256Hex } from './hashChain.js';
