import { createDecipheriv, createECDH, hkdfSync, randomBytes } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { decodeProtectedHeader, importJWK, jwtVerify } from 'jose';

/**
 * A browser's side of one push subscription, made in the test: its P-256 key pair and auth
 * secret, as a user agent makes them (RFC 8291 §3.1-3.2). Only the holder of the private key can
 * read what is pushed to it.
 */
export interface TestSubscription {
  id: string;
  endpoint: string;
  keys: { p256dh: string; auth: string };
  /** The JSON a browser's `PushSubscription.toJSON()` gives. */
  json(): { endpoint: string; expirationTime: null; keys: { p256dh: string; auth: string } };
  decrypt(body: Buffer): Buffer;
}

/** One push request the service accepted and checked: its headers, VAPID claims and plaintext. */
export interface ReceivedPush {
  subscriptionId: string;
  status: number;
  headers: IncomingHttpHeaders;
  claims: { aud: string; exp: number; sub: string };
  vapidKey: string;
  payload: Record<string, unknown>;
}

/** A request the service refused as malformed (VAPID or encryption wrong): a test failure. */
export interface RefusedPush {
  subscriptionId: string;
  problem: string;
}

/**
 * A local push service (RFC 8030) on node:http: each subscription's endpoint is
 * `<origin>/push/<id>`. Every request must carry `Authorization: vapid t=<JWT>, k=<key>`
 * (RFC 8292 §3): an ES256 JWT signed by `k`, its `aud` this origin, `exp` within 24 hours, a
 * `sub`; and an aes128gcm body (RFC 8188) encrypted for the subscription (RFC 8291), which it
 * decrypts with the subscription's private key. Answers are 201 unless a test scripts others.
 */
export class LocalPushService {
  readonly received: ReceivedPush[] = [];
  readonly refused: RefusedPush[] = [];
  /** Statuses to answer per subscription id, one per request, before falling back to 201. */
  readonly script = new Map<string, number[]>();
  readonly #subscriptions = new Map<string, TestSubscription>();
  readonly #waiters = new Set<() => void>();
  #counter = 0;

  private constructor(
    private readonly server: Server,
    readonly origin: string,
  ) {}

  static async start(): Promise<LocalPushService> {
    let service: LocalPushService | undefined;
    const server = createServer((request, response) => {
      const chunks: Buffer[] = [];
      request.on('data', (chunk: Buffer) => chunks.push(chunk));
      request.on('end', () => {
        void service?.handle(request.url ?? '', request.headers, Buffer.concat(chunks)).then((status) => {
          response.statusCode = status;
          response.end();
        });
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    service = new LocalPushService(server, `http://127.0.0.1:${port}`);
    return service;
  }

  /** A new browser subscription on this service. */
  subscribe(): TestSubscription {
    this.#counter += 1;
    const id = `sub${this.#counter}`;
    const ecdh = createECDH('prime256v1');
    ecdh.generateKeys();
    const publicKey = ecdh.getPublicKey();
    const auth = randomBytes(16);
    const endpoint = `${this.origin}/push/${id}`;
    const keys = { p256dh: publicKey.toString('base64url'), auth: auth.toString('base64url') };
    const subscription: TestSubscription = {
      id,
      endpoint,
      keys,
      json: () => ({ endpoint, expirationTime: null, keys }),
      decrypt: (body) => decryptAES128GCM(body, ecdh, publicKey, auth),
    };
    this.#subscriptions.set(id, subscription);
    return subscription;
  }

  pushesTo(subscription: TestSubscription): ReceivedPush[] {
    return this.received.filter((push) => push.subscriptionId === subscription.id);
  }

  /** Resolves once `predicate` holds over what was received; rejects after `timeoutMs` with what was. */
  async waitFor(predicate: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
    if (predicate()) return;
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#waiters.delete(check);
        reject(
          new Error(
            `timed out waiting for ${what}; received ${JSON.stringify(this.received.map((p) => [p.subscriptionId, p.status, p.payload.kind]))}; refused ${JSON.stringify(this.refused)}`,
          ),
        );
      }, timeoutMs);
      const check = (): void => {
        if (!predicate()) return;
        clearTimeout(timer);
        this.#waiters.delete(check);
        resolve();
      };
      this.#waiters.add(check);
    });
  }

  close(): Promise<void> {
    return new Promise((resolve) => this.server.close(() => resolve()));
  }

  private async handle(url: string, headers: IncomingHttpHeaders, body: Buffer): Promise<number> {
    const id = /^\/push\/([a-z0-9]+)$/.exec(url)?.[1];
    const subscription = id === undefined ? undefined : this.#subscriptions.get(id);
    if (!subscription || id === undefined) return 404;
    try {
      const { claims, vapidKey } = await this.verifyVAPID(headers.authorization);
      if (headers['content-encoding'] !== 'aes128gcm') throw new Error('not aes128gcm');
      if (headers.ttl === undefined) throw new Error('no TTL header');
      const payload = JSON.parse(subscription.decrypt(body).toString('utf8')) as Record<string, unknown>;
      const status = this.script.get(id)?.shift() ?? 201;
      this.received.push({ subscriptionId: id, status, headers, claims, vapidKey, payload });
      for (const waiter of [...this.#waiters]) waiter();
      return status;
    } catch (error) {
      this.refused.push({ subscriptionId: id, problem: (error as Error).message });
      for (const waiter of [...this.#waiters]) waiter();
      return 400;
    }
  }

  /** RFC 8292 §2-3: the JWT verifies under `k`, for this origin, not expired nor too long-lived. */
  private async verifyVAPID(
    header: string | undefined,
  ): Promise<{ claims: ReceivedPush['claims']; vapidKey: string }> {
    const match = /^vapid t=([^,\s]+),\s*k=([A-Za-z0-9_-]+)$/.exec(header ?? '');
    if (!match?.[1] || !match[2]) throw new Error(`Authorization is not vapid t=..., k=...: ${header}`);
    const [, token, k] = match as unknown as [string, string, string];
    const point = Buffer.from(k, 'base64url');
    if (point.length !== 65 || point[0] !== 4) throw new Error('k is not an uncompressed P-256 point');
    if (decodeProtectedHeader(token).alg !== 'ES256') throw new Error('JWT is not ES256');
    const key = await importJWK(
      {
        kty: 'EC',
        crv: 'P-256',
        x: point.subarray(1, 33).toString('base64url'),
        y: point.subarray(33).toString('base64url'),
      },
      'ES256',
    );
    const { payload } = await jwtVerify(token, key, { audience: this.origin, algorithms: ['ES256'] });
    const now = Math.floor(Date.now() / 1000);
    if (typeof payload.exp !== 'number' || payload.exp <= now) throw new Error('JWT has no exp or expired');
    if (payload.exp > now + 24 * 3600) throw new Error('JWT exp more than 24 hours ahead (RFC 8292 §2)');
    if (typeof payload.sub !== 'string') throw new Error('JWT has no sub');
    return { claims: { aud: String(payload.aud), exp: payload.exp, sub: payload.sub }, vapidKey: k };
  }
}

/**
 * RFC 8291 §3.3-3.4 over RFC 8188: header salt(16) | rs(4) | idlen(1) | keyid (the sender's
 * ephemeral public key, 65 bytes); IKM = HKDF(auth, ECDH, "WebPush: info\0" | ua_public |
 * as_public); CEK and nonce from HKDF(salt, IKM); one record, AES-128-GCM, padding delimiter 0x02.
 */
function decryptAES128GCM(
  body: Buffer,
  ecdh: ReturnType<typeof createECDH>,
  userAgentPublic: Buffer,
  auth: Buffer,
): Buffer {
  const salt = body.subarray(0, 16);
  const recordSize = body.readUInt32BE(16);
  const idLength = body[20] ?? 0;
  if (idLength !== 65) throw new Error(`keyid is ${idLength} bytes, not a P-256 point`);
  const serverPublic = body.subarray(21, 21 + idLength);
  const ciphertext = body.subarray(21 + idLength);
  if (ciphertext.length > recordSize) throw new Error('more than one record');
  const shared = ecdh.computeSecret(serverPublic);
  const keyInfo = Buffer.concat([Buffer.from('WebPush: info\0'), userAgentPublic, serverPublic]);
  const ikm = Buffer.from(hkdfSync('sha256', shared, auth, keyInfo, 32));
  const cek = Buffer.from(hkdfSync('sha256', ikm, salt, Buffer.from('Content-Encoding: aes128gcm\0'), 16));
  const nonce = Buffer.from(hkdfSync('sha256', ikm, salt, Buffer.from('Content-Encoding: nonce\0'), 12));
  const decipher = createDecipheriv('aes-128-gcm', cek, nonce);
  decipher.setAuthTag(ciphertext.subarray(ciphertext.length - 16));
  const padded = Buffer.concat([
    decipher.update(ciphertext.subarray(0, ciphertext.length - 16)),
    decipher.final(),
  ]);
  let end = padded.length - 1;
  while (end >= 0 && padded[end] === 0) end -= 1;
  if (padded[end] !== 2) throw new Error('last record lacks the 0x02 padding delimiter');
  return padded.subarray(0, end);
}
