import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PASSWORD, request } from './helpers/api.js';
import { startTestServer, type TestServer } from './helpers/test-server.js';

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer();
});
afterAll(async () => {
  await server.close();
});

let counter = 0;
/** A fresh ASCII local part per test: the suite shares one server. */
const local = (): string => `canon${++counter}.${process.pid}.${Date.now()}`;

const signup = (email: string) =>
  request(server.url, 'POST', '/api/auth/signup', { body: { email, password: PASSWORD } });
const signIn = (email: string) =>
  request(server.url, 'POST', '/api/auth/session/create', { body: { email, password: PASSWORD } });

/** Fullwidth forms (U+FF01-FF5E) of printable ASCII: they render as the same letters. */
const fullwidth = (text: string): string =>
  [...text]
    .map((c) => (c >= '!' && c <= '~' ? String.fromCodePoint(c.codePointAt(0)! + 0xfee0) : c))
    .join('');

describe('one mailbox is one account, however it is spelt', () => {
  it('fullwidth letters (NFKC look-alikes) fold onto the ASCII account', async () => {
    const name = local();
    expect((await signup(`${name}@example.com`)).status).toBe(201);
    const lookAlike = await signup(`${fullwidth(name)}@${fullwidth('EXAMPLE.com')}`);
    expect({ status: lookAlike.status, error: lookAlike.body.error }).toEqual({
      status: 409,
      error: 'email_taken',
    });
    expect((await signIn(`${fullwidth(name)}＠example.com`)).status).toBe(200);
  });

  it('an IDNA domain is one account in its Unicode and its xn-- spelling', async () => {
    const name = local();
    const created = await signup(`${name}@MÜLLER.example`);
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ user: { email: `${name}@müller.example` } });
    expect((await signup(`${name}@xn--mller-kva.example`)).body).toMatchObject({ error: 'email_taken' });
    expect((await signIn(`${name}@xn--mller-kva.example`)).status).toBe(200);
    // The ideographic full stop is a dot to IDNA, as browsers read host names.
    expect((await signIn(`${name}@müller。example`)).status).toBe(200);
  });

  it.each([
    ['a zero-width space', '\u200b'],
    ['a zero-width joiner', '\u200d'],
    ['a soft hyphen', '\u00ad'],
    ['a right-to-left override', '\u202e'],
    ['a left-to-right mark', '\u200e'],
    ['a byte order mark', '\ufeff'],
    ['a control character', '\u0007'],
    ['a DEL', '\u007f'],
    ['a variation selector', '\ufe0f'],
    ['a Hangul filler', '\u3164'],
    ['an ideographic space', '\u3000'],
    ['a no-break space', '\u00a0'],
    ['a private-use character', '\ue000'],
  ])(
    '%s is refused with 400 invalid_request, at sign-up and at sign-in, in the local part or the domain',
    async (_name, character) => {
      const name = local();
      expect((await signup(`${name}@example.com`)).status).toBe(201);
      for (const spelling of [
        `${name.slice(0, 3)}${character}${name.slice(3)}@example.com`,
        `${name}@exa${character}mple.com`,
      ]) {
        for (const answer of [await signup(spelling), await signIn(spelling)]) {
          expect({ status: answer.status, error: answer.body.error }).toEqual({
            status: 400,
            error: 'invalid_request',
          });
        }
      }
    },
  );

  it('a character NFKC expands into words with spaces is refused too', async () => {
    const answer = await signup(`${local()}\ufdfa@example.com`);
    expect({ status: answer.status, error: answer.body.error }).toEqual({
      status: 400,
      error: 'invalid_request',
    });
  });

  it('what is stored is the canonical spelling', async () => {
    const name = local();
    await signup(`  ${fullwidth(name.toUpperCase())}@Ｅｘａｍｐｌｅ.COM `);
    const user = await server.app.sessiond.store.findUserByEmail(`${name}@example.com`);
    expect(user?.email).toBe(`${name}@example.com`);
  });
});
