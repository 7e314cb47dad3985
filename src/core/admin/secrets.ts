import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { InvalidOptionError, RetraceError } from '../shared/errors.js';

/**
 * Secret instance config values, encrypted at rest with AES-256-GCM under a key the
 * composition root takes from the environment. Each value gets its own random 96-bit IV; the
 * 128-bit tag authenticates it, so a tampered or wrongly-keyed value fails loudly instead of
 * decrypting to garbage. Stored form: `v1:<base64 iv>:<base64 tag>:<base64 ciphertext>`.
 */
export class SecretBox {
  readonly #key: Buffer;

  constructor(key: Buffer) {
    if (key.length !== 32)
      throw new InvalidOptionError('encryptionKey', `The encryption key must be 32 bytes, got ${key.length}`);
    this.#key = key;
  }

  /** Accepts 32 bytes as base64 or hex (e.g. `openssl rand -base64 32`). */
  static fromString(value: string): SecretBox {
    const trimmed = value.trim();
    const key = /^[0-9a-f]{64}$/i.test(trimmed) ? Buffer.from(trimmed, 'hex') : Buffer.from(trimmed, 'base64');
    if (key.length !== 32) {
      throw new InvalidOptionError(
        'encryptionKey',
        'The encryption key must be 32 bytes, written as base64 or 64 hex digits (try: openssl rand -base64 32)',
      );
    }
    return new SecretBox(key);
  }

  encrypt(plaintext: string): string {
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', this.#key, iv);
    const ciphertext = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
    return ['v1', iv.toString('base64'), cipher.getAuthTag().toString('base64'), ciphertext.toString('base64')].join(
      ':',
    );
  }

  decrypt(sealed: string): string {
    const [version, iv, tag, ciphertext] = sealed.split(':');
    if (version !== 'v1' || !iv || !tag || ciphertext === undefined) {
      // What is stored (or the key) is wrong, not the request: the same code as a failed decryption.
      throw new RetraceError('SECRET_UNREADABLE', 'A stored secret is not in a format this version can read');
    }
    try {
      const decipher = createDecipheriv('aes-256-gcm', this.#key, Buffer.from(iv, 'base64'));
      decipher.setAuthTag(Buffer.from(tag, 'base64'));
      return Buffer.concat([decipher.update(Buffer.from(ciphertext, 'base64')), decipher.final()]).toString('utf8');
    } catch {
      throw new RetraceError(
        'SECRET_UNREADABLE',
        'A stored secret cannot be decrypted: wrong encryption key, or the value was altered',
      );
    }
  }
}

/** Checks an encryption key as createEngine will read it (32 bytes, base64 or hex), without keeping it. */
export function checkEncryptionKey(value: string): void {
  SecretBox.fromString(value);
}
