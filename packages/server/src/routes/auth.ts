import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { requestContext } from '../http/authenticate.js';
import { AppClientId } from '../http/client-id.js';
import { parseInput } from '../http/parse.js';
import { CeremonyId, PasskeyAssertion } from '../http/passkey-bodies.js';
import { tokenResponse } from '../http/views.js';

const email = z.string().max(254);
const password = z.string().max(1024);

const SignUpBody = z.strictObject({ email, password });

/** A stable id the client keeps per install; constrained so it is safe in logs and URLs. */
export const DeviceId = z
  .string()
  .regex(/^[A-Za-z0-9._:-]{8,128}$/, 'device id must be 8-128 of [A-Za-z0-9._:-]');

/** `ds_` and 256 bits in base64url, as issued (DeviceService.recognise). */
const DeviceSecret = z.string().regex(/^ds_[A-Za-z0-9_-]{43}$/, 'device secret is not one sessiond issued');

/** The device a sign-in comes from, as every way of signing in names it. */
export const DeviceBody = z.strictObject({
  id: DeviceId.optional(),
  secret: DeviceSecret.optional(),
  name: z.string().max(100).optional(),
  platform: z.string().max(50).optional(),
});

const CreateSessionBody = z.strictObject({
  email,
  password,
  /** A TOTP code with the password: the session starts at aal2, and passes the account ceiling. */
  totp: z
    .string()
    .regex(/^\d{6}$/, 'totp must be 6 digits')
    .optional(),
  client_id: AppClientId.optional(),
  device: DeviceBody.optional(),
});

const PendingToken = z.string().max(128);
const SixDigits = z.string().regex(/^\d{6}$/, 'must be 6 digits');
/** The second step of a sign-in that had to wait for a second factor (decision 026). */
const VerifyBody = z.union([
  z.strictObject({ pending_token: PendingToken, totp: SixDigits, device: DeviceBody.optional() }),
  z.strictObject({ pending_token: PendingToken, email_code: SixDigits, device: DeviceBody.optional() }),
  z.strictObject({
    pending_token: PendingToken,
    passkey: PasskeyAssertion,
    ceremony_id: CeremonyId,
    device: DeviceBody.optional(),
  }),
]);
const PendingBody = z.strictObject({ pending_token: PendingToken });

const RefreshBody = z.strictObject({ refresh_token: z.string().max(256) });
/** Cookie mode: the refresh cookie carries the token; the body may still name one (no cookie yet). */
const CookieRefreshBody = z.strictObject({ refresh_token: z.string().max(256).optional() });

/** Sign-up, sign-in and refresh: the unauthenticated half of the session API. */
export async function authRoutes(app: FastifyInstance): Promise<void> {
  const { accounts, sessions, transport, pendingSignIns } = app.sessiond;

  app.post('/api/auth/signup', async (request, reply) => {
    const body = parseInput(SignUpBody, request.body);
    // The sign-up throttle counts by the stored form of the IP, as everything else does (decision 035).
    const user = await accounts.signUp({ ...body, ip: requestContext(request).ip });
    return reply.code(201).send({ user: { id: user.id, email: user.email } });
  });

  app.post('/api/auth/session/create', async (request, reply) => {
    const mode = transport.transportOf(request);
    const body = parseInput(CreateSessionBody, request.body);
    const grant = await sessions.signIn(
      {
        email: body.email,
        password: body.password,
        ...(body.totp !== undefined ? { totp: body.totp } : {}),
        device: mode === 'cookie' ? transport.deviceOf(request, body.device) : body.device,
        clientId: body.client_id,
      },
      requestContext(request),
    );
    return transport.send(reply, mode, grant);
  });

  app.post('/api/auth/session/verify', async (request, reply) => {
    const mode = transport.transportOf(request);
    const body = parseInput(VerifyBody, request.body);
    const grant = await sessions.completeSignIn(
      {
        pendingToken: body.pending_token,
        proof:
          'totp' in body
            ? { totp: body.totp }
            : 'email_code' in body
              ? { emailCode: body.email_code }
              : { passkey: body.passkey, ceremonyId: body.ceremony_id },
        device: mode === 'cookie' ? transport.deviceOf(request, body.device) : body.device,
      },
      requestContext(request),
    );
    return transport.send(reply, mode, grant);
  });

  app.post('/api/auth/session/verify/passkey-options', async (request) => {
    const body = parseInput(PendingBody, request.body);
    const started = await pendingSignIns.startPasskeyAssertion(body.pending_token);
    return { ceremony_id: started.ceremonyId, options: started.options };
  });

  app.post('/api/auth/session/verify/email-code', async (request) => {
    const body = parseInput(PendingBody, request.body);
    const sent = await pendingSignIns.sendEmailCode(body.pending_token, requestContext(request));
    return { sent: true, sent_to: sent.sentTo, expires_in: sent.expiresIn };
  });

  app.post('/api/auth/session/refresh', async (request, reply) => {
    const context = requestContext(request);
    if (transport.transportOf(request) === 'cookie') {
      const body = parseInput(CookieRefreshBody, request.body);
      return transport.refresh(request, reply, body.refresh_token, (token) =>
        sessions.refresh(token, context),
      );
    }
    const body = parseInput(RefreshBody, request.body);
    return tokenResponse(await sessions.refresh(body.refresh_token, context));
  });
}
