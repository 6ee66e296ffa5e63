import {
  createHash,
  createPrivateKey,
  generateKeyPairSync,
  type KeyObject,
  randomBytes,
  sign,
} from 'node:crypto';
import type {
  AuthenticationResponseJSON,
  PublicKeyCredentialCreationOptionsJSON,
  PublicKeyCredentialRequestOptionsJSON,
  RegistrationResponseJSON,
} from '@simplewebauthn/server';

/**
 * A real software WebAuthn authenticator (node:crypto, P-256 / ES256) for tests: it makes the
 * responses a browser hands back from `navigator.credentials.create()` and `.get()`, with
 * attestation `none`, resident (discoverable) credentials, and a signature counter you control.
 *
 * ```ts
 * const authenticator = new SoftAuthenticator({ origin: 'http://sessiond.test' }); // rpId: the origin's host
 * const response = authenticator.register(options);          // RegistrationResponseJSON
 * const assertion = authenticator.assert(requestOptions);    // AuthenticationResponseJSON (with userHandle)
 * authenticator.assert(requestOptions, { origin: 'https://evil.test' });  // lie about one thing
 * const copy = authenticator.clone();                        // same keys and counter: a cloned device
 * authenticator.counter = 0;                                 // the next assertion signs counter 1
 * ```
 *
 * Each assertion first adds 1 to the counter and signs the result (registration signs 0).
 */
export class SoftAuthenticator {
  /** The last signature counter signed; the next assertion signs `counter + 1`. */
  counter = 0;
  readonly origin: string;
  readonly rpId: string;
  readonly #credentials: SoftCredential[];

  constructor(options: { origin: string; rpId?: string }, credentials: SoftCredential[] = []) {
    this.origin = options.origin;
    this.rpId = options.rpId ?? new URL(options.origin).hostname;
    this.#credentials = credentials;
  }

  /** The credentials it holds (ids base64url), newest last. */
  get credentials(): readonly { id: string; userHandle: string; rpId: string }[] {
    return this.#credentials.map(({ id, userHandle, rpId }) => ({ id, userHandle, rpId }));
  }

  /**
   * A new resident credential for `options.user` (a browser's `create()`). Refuses, as a browser
   * does, when it holds a credential the options exclude, unless `reuse` names one: then that very
   * credential is registered again (an authenticator ignoring excludeCredentials).
   */
  register(
    options: PublicKeyCredentialCreationOptionsJSON,
    overrides: ResponseOverrides & { reuse?: string } = {},
  ): RegistrationResponseJSON {
    const rpId = overrides.rpId ?? this.rpId;
    let credential = this.#credentials.find((c) => c.id === overrides.reuse);
    if (!credential) {
      const excluded = new Set((options.excludeCredentials ?? []).map((c) => c.id));
      if (this.#credentials.some((c) => c.rpId === rpId && excluded.has(c.id))) {
        throw new Error('InvalidStateError: this authenticator already holds an excluded credential');
      }
      const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
      credential = {
        id: randomBytes(16).toString('base64url'),
        privateKey,
        userHandle: options.user.id,
        rpId,
      };
      this.#credentials.push(credential);
    }
    const clientDataJSON = clientData('webauthn.create', options.challenge, overrides.origin ?? this.origin);
    const authData = Buffer.concat([
      sha256(Buffer.from(rpId)),
      Buffer.from([flagsOf(overrides) | FLAG_AT]),
      uint32(0),
      Buffer.alloc(16), // AAGUID: all zeros, as attestation `none` allows
      uint16(Buffer.from(credential.id, 'base64url').length),
      Buffer.from(credential.id, 'base64url'),
      coseKey(credential.privateKey),
    ]);
    const attestationObject = cbor(
      new Map<string, CBORValue>([
        ['fmt', 'none'],
        ['attStmt', new Map()],
        ['authData', authData],
      ]),
    );
    return {
      id: credential.id,
      rawId: credential.id,
      type: 'public-key',
      response: {
        clientDataJSON: clientDataJSON.toString('base64url'),
        attestationObject: attestationObject.toString('base64url'),
        transports: ['internal'],
      },
      authenticatorAttachment: 'platform',
      clientExtensionResults: {},
    };
  }

  /**
   * An assertion (a browser's `get()`): with the first held credential the options allow, or,
   * without allowCredentials (a discoverable sign-in), the newest one for the RP id.
   */
  assert(
    options: PublicKeyCredentialRequestOptionsJSON,
    overrides: ResponseOverrides = {},
  ): AuthenticationResponseJSON {
    const rpId = overrides.rpId ?? this.rpId;
    const allowed = new Set((options.allowCredentials ?? []).map((c) => c.id));
    const candidates = this.#credentials.filter((c) =>
      allowed.size > 0 ? allowed.has(c.id) : c.rpId === this.rpId,
    );
    const credential = candidates.at(-1);
    if (!credential) throw new Error('NotAllowedError: no credential of this authenticator is allowed');
    this.counter += 1;
    const clientDataJSON = clientData('webauthn.get', options.challenge, overrides.origin ?? this.origin);
    const authData = Buffer.concat([
      sha256(Buffer.from(rpId)),
      Buffer.from([flagsOf(overrides)]),
      uint32(this.counter),
    ]);
    const signature = sign(
      'sha256',
      Buffer.concat([authData, sha256(clientDataJSON)]),
      credential.privateKey,
    );
    return {
      id: credential.id,
      rawId: credential.id,
      type: 'public-key',
      response: {
        clientDataJSON: clientDataJSON.toString('base64url'),
        authenticatorData: authData.toString('base64url'),
        signature: signature.toString('base64url'),
        userHandle: credential.userHandle,
      },
      authenticatorAttachment: 'platform',
      clientExtensionResults: {},
    };
  }

  /** A second authenticator with the same credentials (keys copied) and counter: a clone. */
  clone(): SoftAuthenticator {
    const copies = this.#credentials.map((c) => ({
      ...c,
      privateKey: createPrivateKey({
        key: c.privateKey.export({ format: 'der', type: 'pkcs8' }),
        format: 'der',
        type: 'pkcs8',
      }),
    }));
    const copy = new SoftAuthenticator({ origin: this.origin, rpId: this.rpId }, copies);
    copy.counter = this.counter;
    return copy;
  }
}

/** What a response may lie about, one thing at a time, to test that the server refuses it. */
export interface ResponseOverrides {
  /** The origin written into clientDataJSON (default: the authenticator's). */
  origin?: string;
  /** The RP id whose hash is written into authenticatorData (default: the authenticator's). */
  rpId?: string;
  /** False: the UV flag is not set (user present, not verified). Default true. */
  userVerified?: boolean;
}

interface SoftCredential {
  id: string;
  privateKey: KeyObject;
  /** base64url, as the registration options gave it. */
  userHandle: string;
  rpId: string;
}

const FLAG_UP = 0x01;
const FLAG_UV = 0x04;
const FLAG_AT = 0x40;

function flagsOf(overrides: ResponseOverrides): number {
  return FLAG_UP | (overrides.userVerified === false ? 0 : FLAG_UV);
}

function clientData(type: string, challenge: string, origin: string): Buffer {
  return Buffer.from(JSON.stringify({ type, challenge, origin, crossOrigin: false }));
}

const sha256 = (data: Buffer): Buffer => createHash('sha256').update(data).digest();

function uint16(value: number): Buffer {
  const buffer = Buffer.alloc(2);
  buffer.writeUInt16BE(value);
  return buffer;
}

function uint32(value: number): Buffer {
  const buffer = Buffer.alloc(4);
  buffer.writeUInt32BE(value);
  return buffer;
}

/** The credential's public key as a COSE_Key (RFC 9053 §7.1.1: EC2, ES256, P-256). */
function coseKey(privateKey: KeyObject): Buffer {
  const jwk = privateKey.export({ format: 'jwk' });
  return cbor(
    new Map<number, CBORValue>([
      [1, 2],
      [3, -7],
      [-1, 1],
      [-2, Buffer.from(jwk.x as string, 'base64url')],
      [-3, Buffer.from(jwk.y as string, 'base64url')],
    ]),
  );
}

type CBORValue = number | string | Buffer | Map<number | string, CBORValue>;

/** The little CBOR (RFC 8949) WebAuthn needs: small ints, byte and text strings, maps. */
function cbor(value: CBORValue): Buffer {
  if (typeof value === 'number') {
    return value >= 0 ? head(0, value) : head(1, -1 - value);
  }
  if (typeof value === 'string') {
    const bytes = Buffer.from(value, 'utf8');
    return Buffer.concat([head(3, bytes.length), bytes]);
  }
  if (Buffer.isBuffer(value)) return Buffer.concat([head(2, value.length), value]);
  const parts = [head(5, value.size)];
  for (const [key, item] of value) parts.push(cbor(key), cbor(item));
  return Buffer.concat(parts);
}

function head(major: number, length: number): Buffer {
  if (length < 24) return Buffer.from([(major << 5) | length]);
  if (length < 0x100) return Buffer.from([(major << 5) | 24, length]);
  if (length < 0x10000) return Buffer.concat([Buffer.from([(major << 5) | 25]), uint16(length)]);
  return Buffer.concat([Buffer.from([(major << 5) | 26]), uint32(length)]);
}
