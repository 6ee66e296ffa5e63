import {
  createCipheriv,
  createDecipheriv,
  createHash,
  hkdfSync,
  randomBytes,
  timingSafeEqual,
} from 'node:crypto';

/** 256 random bits, base64url, with a readable prefix (`rt_` for refresh tokens). */
export function randomToken(prefix: string): string {
  return prefix + randomBytes(32).toString('base64url');
}

/** SHA-256 as base64url: how refresh tokens and API keys are kept at rest. */
export function sha256(value: string): string {
  return createHash('sha256').update(value).digest('base64url');
}

/** Compares two secrets without leaking where they first differ. */
export function constantTimeEqual(a: string, b: string): boolean {
  const left = createHash('sha256').update(a).digest();
  const right = createHash('sha256').update(b).digest();
  return timingSafeEqual(left, right);
}

/**
 * AES-256-GCM with a key derived (HKDF-SHA-256) from the master secret and a purpose label, so
 * the signing-key store and the refresh-successor store never share a key. Output is
 * `v1.<iv>.<ciphertext+tag>` in base64url; the purpose is also bound as associated data.
 */
export class SecretBox {
  readonly #key: Buffer;
  readonly #purpose: Buffer;

  constructor(masterSecret: string, purpose: string) {
    this.#purpose = Buffer.from(purpose);
    this.#key = Buffer.from(hkdfSync('sha256', masterSecret, 'sessiond', purpose, 32));
  }

  seal(plaintext: string): string {
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', this.#key, iv);
    cipher.setAAD(this.#purpose);
    const body = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final(), cipher.getAuthTag()]);
    return `v1.${iv.toString('base64url')}.${body.toString('base64url')}`;
  }

  open(sealed: string): string {
    const [version, ivText, bodyText] = sealed.split('.');
    if (version !== 'v1' || !ivText || !bodyText) throw new Error('unrecognised sealed secret format');
    const body = Buffer.from(bodyText, 'base64url');
    const decipher = createDecipheriv('aes-256-gcm', this.#key, Buffer.from(ivText, 'base64url'));
    decipher.setAAD(this.#purpose);
    decipher.setAuthTag(body.subarray(body.length - 16));
    return Buffer.concat([decipher.update(body.subarray(0, body.length - 16)), decipher.final()]).toString(
      'utf8',
    );
  }
}
