import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { listUserLogs, MAX_LOG_PAGE } from '../audit/log-query.js';
import { SessiondError } from '../errors.js';
import type { FactorProof } from '../factors/factor-verifier.js';
import { authenticateRequest, requestContext } from '../http/authenticate.js';
import { NoFields, parseInput } from '../http/parse.js';
import { CeremonyId, PasskeyAssertion } from '../http/passkey-bodies.js';
import { activeSessionView, logView, sessionSummary, statusView } from '../http/views.js';
import type { UserRecord } from '../store/records.js';

const RevokeBody = z.strictObject({ session_id: z.string().min(1).max(64) });
const RevokeAllBody = z.strictObject({ keep_current: z.boolean().optional() });
const LogsQuery = z.strictObject({
  limit: z.coerce.number().int().min(1).max(MAX_LOG_PAGE).default(20),
  cursor: z.string().max(64).optional(),
});
const TOTPCodeBody = z.strictObject({ code: z.string().regex(/^\d{6}$/, 'code must be 6 digits') });
const SixDigits = z.string().regex(/^\d{6}$/, 'must be 6 digits');
/** One proof of one factor; which factors count is the step-up policy's (decision 024). */
const StepUpBody = z.union([
  z.strictObject({ password: z.string().min(1).max(1024) }),
  z.strictObject({ totp: SixDigits }),
  z.strictObject({ email_code: SixDigits }),
  z.strictObject({ passkey: PasskeyAssertion, ceremony_id: CeremonyId }),
]);

function proofOf(body: z.infer<typeof StepUpBody>): FactorProof {
  if ('password' in body) return { password: body.password };
  if ('totp' in body) return { totp: body.totp };
  if ('email_code' in body) return { emailCode: body.email_code };
  return { passkey: body.passkey, ceremonyId: body.ceremony_id };
}

/** The authenticated half of the session API: every route needs a live session. */
export async function sessionRoutes(app: FastifyInstance): Promise<void> {
  const { sessions, store, devices, transport, factors, stepUpPolicy, emailCodes } = app.sessiond;

  app.get('/api/auth/session/status', async (request) => {
    return statusView(await authenticateRequest(app.sessiond, request));
  });

  app.get('/api/auth/session/active', async (request) => {
    const auth = await authenticateRequest(app.sessiond, request);
    const now = app.sessiond.clock.now();
    const [live, known] = await Promise.all([
      store.listLiveSessions(auth.session.userId, now),
      devices.list(auth.session.userId),
    ]);
    const byId = new Map(known.map((device) => [device.id, device]));
    return { sessions: live.map((s) => activeSessionView(s, byId.get(s.deviceId), auth.session.id)) };
  });

  app.get('/api/auth/session/logs', async (request) => {
    const auth = await authenticateRequest(app.sessiond, request);
    const query = parseInput(LogsQuery, request.query, 'query');
    const page = await listUserLogs(store, auth.session.userId, query);
    return { logs: page.logs.map(logView), next_cursor: page.nextCursor };
  });

  app.post('/api/auth/session/touch', async (request) => {
    const auth = await authenticateRequest(app.sessiond, request);
    return { session: sessionSummary(await sessions.touch(auth, requestContext(request))) };
  });

  app.post('/api/auth/session/logout', async (request, reply) => {
    const auth = await authenticateRequest(app.sessiond, request);
    await sessions.logout(auth, requestContext(request));
    if (auth.credential === 'cookie') transport.clear(reply);
    return { logged_out: true };
  });

  app.post('/api/auth/session/revoke', async (request) => {
    const auth = await authenticateRequest(app.sessiond, request);
    const body = parseInput(RevokeBody, request.body);
    const revoked = await sessions.revokeOwn(auth, body.session_id, requestContext(request));
    return { session_id: body.session_id, revoked };
  });

  app.post('/api/auth/session/revoke-all', async (request, reply) => {
    const auth = await authenticateRequest(app.sessiond, request);
    await stepUpPolicy.requireNoPendingStepUp(auth);
    const body = parseInput(RevokeAllBody, request.body);
    const keepCurrent = body.keep_current ?? false;
    const revoked = await sessions.revokeAllOwn(auth, { keepCurrent }, requestContext(request));
    if (auth.credential === 'cookie' && !keepCurrent) transport.clear(reply);
    return { revoked };
  });

  // Factor changes: each needs a recent step-up with an existing factor (decision 016).
  app.post('/api/auth/totp/enroll', async (request) => {
    const auth = await authenticateRequest(app.sessiond, request);
    parseInput(NoFields, request.body);
    const { secret, otpauthURI } = await factors.enrolTOTP(auth);
    return { secret, otpauth_uri: otpauthURI };
  });

  app.post('/api/auth/totp/confirm', async (request) => {
    const auth = await authenticateRequest(app.sessiond, request);
    const { code } = parseInput(TOTPCodeBody, request.body);
    await factors.confirmTOTP(auth, code, requestContext(request));
    return { totp_enabled: true };
  });

  app.delete('/api/auth/totp', async (request) => {
    const auth = await authenticateRequest(app.sessiond, request);
    await factors.removeTOTP(auth, requestContext(request));
    return { totp_enabled: false };
  });

  app.post('/api/auth/session/step-up', async (request, reply) => {
    const auth = await authenticateRequest(app.sessiond, request);
    const mode = transport.transportOf(request);
    const body = parseInput(StepUpBody, request.body);
    return transport.send(reply, mode, await sessions.stepUp(auth, proofOf(body), requestContext(request)));
  });

  /** Which factors a step-up of this session accepts now, strongest first (a client offers those). */
  app.get('/api/auth/session/step-up', async (request) => {
    const auth = await authenticateRequest(app.sessiond, request);
    const user = await accountOf(auth.session.userId);
    return { factors: await stepUpPolicy.factorsFor(auth.session, user) };
  });

  /** Mails a one-time code for a step-up of this session (the previous one stops working). */
  app.post('/api/auth/session/step-up/email-code', async (request) => {
    const auth = await authenticateRequest(app.sessiond, request);
    parseInput(NoFields, request.body);
    const user = await accountOf(auth.session.userId);
    const sent = await emailCodes.send(user, { sessionId: auth.session.id }, requestContext(request));
    return { sent: true, expires_in: sent.expiresIn, sent_to: sent.sentTo };
  });

  async function accountOf(userId: string): Promise<UserRecord> {
    const user = await store.findUserById(userId);
    if (!user) throw new SessiondError('session_revoked', 'the account of this session is gone');
    return user;
  }
}
