/**
 * Tokens at rest: envelope encryption. Each secret gets a fresh 256-bit data key; the secret is
 * sealed with AES-256-GCM under the data key, with the owner's id as additional authenticated data
 * (a ciphertext copied to another user's row does not open), and the data key is sealed under the
 * key-encryption key. Only the sealed form is stored.
 *
 * In AWS the production path is KMS: the data key comes from KMS GenerateDataKey (the plain key
 * used once, the KMS-encrypted copy stored) and is opened with KMS Decrypt under an encryption
 * context, so the key-encryption key never leaves KMS. That implementation needs
 * @aws-sdk/client-kms, which this package does not ship yet; LocalEnvelopeEncryptor takes the
 * key-encryption key from SSM (SecureString) or the environment instead.
 */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';

export interface Encryptor {
  /** Seals `plaintext` bound to `context` (e.g. the owner's user id). */
  encrypt(plaintext: string, context: string): Promise<string>;
  /** Opens what encrypt produced for the same context; throws on any tampering or other context. */
  decrypt(sealed: string, context: string): Promise<string>;
}

const VERSION = 'v1';

export class LocalEnvelopeEncryptor implements Encryptor {
  private readonly kek: Buffer;

  /** @param keyBase64 32 random bytes, base64 (e.g. `openssl rand -base64 32`). @param keyId names the key in stored values. */
  constructor(
    keyBase64: string,
    private readonly keyId = 'local',
  ) {
    const key = Buffer.from(keyBase64 ?? '', 'base64');
    if (key.length !== 32) throw new Error(`the token encryption key must be 32 bytes, base64 encoded (got ${key.length} bytes)`);
    if (!/^[A-Za-z0-9_-]{1,32}$/.test(keyId)) throw new Error('the key id must be 1-32 characters of letters, digits, _ and -');
    this.kek = key;
  }

  async encrypt(plaintext: string, context: string): Promise<string> {
    const dataKey = randomBytes(32);
    try {
      const wrapped = seal(this.kek, dataKey, Buffer.from(`${VERSION}:${this.keyId}:dek`));
      const body = seal(dataKey, Buffer.from(plaintext, 'utf8'), Buffer.from(`${VERSION}:ctx:${context}`));
      return [VERSION, this.keyId, wrapped, body].join('.');
    } finally {
      dataKey.fill(0);
    }
  }

  async decrypt(sealed: string, context: string): Promise<string> {
    const parts = sealed.split('.');
    if (parts.length !== 4 || parts[0] !== VERSION) throw new Error('not a sealed secret of this version');
    if (parts[1] !== this.keyId) throw new Error(`sealed under key "${parts[1]}", this encryptor holds "${this.keyId}"`);
    const dataKey = open(this.kek, parts[2], Buffer.from(`${VERSION}:${this.keyId}:dek`));
    try {
      return open(dataKey, parts[3], Buffer.from(`${VERSION}:ctx:${context}`)).toString('utf8');
    } finally {
      dataKey.fill(0);
    }
  }
}

/** iv|tag|ciphertext, base64url. */
function seal(key: Buffer, plaintext: Buffer, aad: Buffer): string {
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', key, iv);
  cipher.setAAD(aad);
  const body = Buffer.concat([cipher.update(plaintext), cipher.final()]);
  return Buffer.concat([iv, cipher.getAuthTag(), body]).toString('base64url');
}

function open(key: Buffer, sealed: string, aad: Buffer): Buffer {
  const raw = Buffer.from(sealed, 'base64url');
  if (raw.length < 28) throw new Error('sealed value is truncated');
  const decipher = createDecipheriv('aes-256-gcm', key, raw.subarray(0, 12));
  decipher.setAAD(aad);
  decipher.setAuthTag(raw.subarray(12, 28));
  try {
    return Buffer.concat([decipher.update(raw.subarray(28)), decipher.final()]);
  } catch {
    throw new Error('sealed value does not open: wrong key, wrong owner or tampered');
  }
}
