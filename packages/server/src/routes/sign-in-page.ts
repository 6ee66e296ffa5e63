import type { AuthenticationResponseJSON } from '@simplewebauthn/server';
import type { FastifyError, FastifyInstance, FastifyReply } from 'fastify';
import { z } from 'zod';
import { SessiondError } from '../errors.js';
import { sendError } from '../http/error-handler.js';
import { parseInput } from '../http/parse.js';
import { CeremonyId, PasskeyAssertion } from '../http/passkey-bodies.js';
import { acceptFormBodies, formParameters } from '../oauth/form.js';
import { OAuthError } from '../oauth/oauth-error.js';
import type { PageAnswer, PageProof } from '../provider/sign-in-page.js';
import { SIGN_IN_CSS, SIGN_IN_JS } from '../provider/sign-in-page-assets.js';
import { signInPageCSP } from '../provider/sign-in-page-csp.js';
import { ASSET_PATH, messageView } from '../provider/sign-in-page-views.js';
import type { StepUpFactor } from '../store/records.js';

const RequestId = z.string().min(1).max(128);
const Csrf = z.string().max(128).optional();
const SixDigits = z.string().regex(/^\d{6}$/, 'must be 6 digits');
const PendingToken = z.string().max(128);
const Factors = z
  .string()
  .max(100)
  .transform((value) => value.split(',').filter((factor): factor is StepUpFactor => FACTORS.has(factor)));
const FACTORS: ReadonlySet<string> = new Set(['passkey', 'totp', 'email_code', 'password']);
/** The assertion sign-in.js put into the form, as JSON text. */
const PasskeyResponse = z.string().max(65_536);

const ShowQuery = z.strictObject({ request: RequestId, account: z.literal('other').optional() });
const Frame = { request: RequestId, csrf: Csrf };
const PasswordForm = z.strictObject({
  ...Frame,
  email: z.string().max(254).default(''),
  password: z.string().max(1024).default(''),
});
const ProofFields = {
  totp: SixDigits.optional(),
  email_code: SixDigits.optional(),
  password: z.string().min(1).max(1024).optional(),
  ceremony_id: z.union([CeremonyId, z.literal('')]).optional(),
  passkey_response: PasskeyResponse.optional(),
  purpose: z.string().max(20).optional(),
};
const VerifyForm = z.strictObject({
  ...Frame,
  pending: PendingToken,
  factors: Factors.optional(),
  ...ProofFields,
});
const PendingForm = z.strictObject({ ...Frame, pending: PendingToken, factors: Factors.optional() });
const PasskeyForm = z.strictObject({
  ...Frame,
  purpose: z.literal('sign_in').optional(),
  ceremony_id: CeremonyId,
  passkey_response: PasskeyResponse,
});
const StepUpForm = z.strictObject({ ...Frame, ...ProofFields });
const FrameForm = z.strictObject(Frame);
const OptionsForm = z.strictObject({
  ...Frame,
  purpose: z.enum(['sign_in', 'second_factor', 'step_up']),
  pending: PendingToken.optional(),
  factors: z.string().max(100).optional(),
});

/** The one factor a form sent (the page has one form per factor). */
function proofOf(form: {
  totp?: string | undefined;
  email_code?: string | undefined;
  password?: string | undefined;
  ceremony_id?: string | undefined;
  passkey_response?: string | undefined;
}): PageProof {
  const given: PageProof[] = [];
  if (form.totp !== undefined) given.push({ totp: form.totp });
  if (form.email_code !== undefined) given.push({ emailCode: form.email_code });
  if (form.password !== undefined) given.push({ password: form.password });
  if (form.passkey_response !== undefined && form.ceremony_id) {
    given.push({ passkey: passkeyOf(form.passkey_response), ceremonyId: form.ceremony_id });
  }
  const [proof] = given;
  if (given.length !== 1 || !proof) throw new SessiondError('invalid_request', 'send exactly one factor');
  return proof;
}

function passkeyOf(text: string): AuthenticationResponseJSON {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new SessiondError('invalid_request', 'the passkey response is not JSON');
  }
  return parseInput(PasskeyAssertion, json, 'passkey response') as AuthenticationResponseJSON;
}

function formOf(body: unknown): Record<string, string> {
  try {
    return Object.fromEntries(formParameters(body));
  } catch (error) {
    if (error instanceof OAuthError) throw new SessiondError('invalid_request', error.message);
    throw error;
  }
}

function send(reply: FastifyReply, answer: PageAnswer): FastifyReply {
  if (answer.kind === 'redirect') return reply.redirect(answer.location, 303);
  for (const [name, value] of Object.entries(answer.headers ?? {})) reply.header(name, value);
  return reply.code(answer.status).type('text/html; charset=utf-8').send(answer.html.text);
}

/**
 * sessiond's own sign-in page for the authorization endpoint (decision 029): server-rendered
 * HTML, form posts, one small script for passkeys. Encapsulated: the form parser, the headers and
 * the HTML error pages apply to these routes only.
 */
export async function signInPageRoutes(app: FastifyInstance): Promise<void> {
  const { signInPage } = app.sessiond;

  acceptFormBodies(app, (message) => new SessiondError('invalid_request', message));
  app.addHook('onSend', async (request, reply) => {
    // A page of a pending request set its own (form-action names the app's redirect target).
    if (!reply.hasHeader('content-security-policy')) reply.header('content-security-policy', signInPageCSP());
    reply
      .header('x-frame-options', 'DENY')
      .header('referrer-policy', 'no-referrer')
      .header('x-content-type-options', 'nosniff')
      .header('cross-origin-opener-policy', 'same-origin');
    if (!request.url.startsWith(`${ASSET_PATH}/`)) reply.header('cache-control', 'no-store');
  });
  // Pages answer their errors as pages; the passkey-options endpoint (fetch) as the API's JSON.
  app.setErrorHandler((error: FastifyError, request, reply) => {
    const known = error instanceof SessiondError ? error : undefined;
    if (request.url.startsWith('/oauth/sign-in/passkey-options')) {
      if (known) return sendError(reply, known);
      request.log.error({ err: error }, 'unhandled error');
      return sendError(reply, new SessiondError('internal_error', 'internal error'));
    }
    if (!known) request.log.error({ err: error }, 'unhandled error');
    const status = known?.status ?? (error.statusCode && error.statusCode < 500 ? 400 : 500);
    const title = known?.code === 'csrf_required' ? 'This form cannot be accepted' : 'Something went wrong';
    const message =
      known?.code === 'csrf_required'
        ? 'The form did not come from this browser’s sign-in page, or the page is too old. Start again from the app.'
        : status < 500
          ? (known?.message ?? 'The request was not understood.')
          : 'sessiond could not complete this. Try again in a moment.';
    return reply.code(status).type('text/html; charset=utf-8').send(messageView({ title, message }).text);
  });

  app.get(`${ASSET_PATH}/sign-in.css`, async (_request, reply) =>
    reply.type('text/css; charset=utf-8').header('cache-control', 'public, max-age=300').send(SIGN_IN_CSS),
  );
  app.get(`${ASSET_PATH}/sign-in.js`, async (_request, reply) =>
    reply
      .type('text/javascript; charset=utf-8')
      .header('cache-control', 'public, max-age=300')
      .send(SIGN_IN_JS),
  );

  app.get('/oauth/sign-in', async (request, reply) => {
    const query = parseInput(ShowQuery, request.query, 'query');
    return send(
      reply,
      await signInPage.show(request, reply, {
        requestId: query.request,
        otherAccount: query.account === 'other',
      }),
    );
  });

  app.post('/oauth/sign-in', async (request, reply) => {
    const form = parseInput(PasswordForm, formOf(request.body));
    return send(
      reply,
      await signInPage.signInWithPassword(request, reply, {
        requestId: form.request,
        csrf: form.csrf,
        email: form.email,
        password: form.password,
      }),
    );
  });

  app.post('/oauth/sign-in/verify', async (request, reply) => {
    const form = parseInput(VerifyForm, formOf(request.body));
    return send(
      reply,
      await signInPage.completeSignIn(request, reply, {
        requestId: form.request,
        csrf: form.csrf,
        pendingToken: form.pending,
        factors: form.factors ?? [],
        proof: proofOf(form),
      }),
    );
  });

  app.post('/oauth/sign-in/verify/email-code', async (request, reply) => {
    const form = parseInput(PendingForm, formOf(request.body));
    return send(
      reply,
      await signInPage.sendSignInEmailCode(request, reply, {
        requestId: form.request,
        csrf: form.csrf,
        pendingToken: form.pending,
        factors: form.factors ?? [],
      }),
    );
  });

  app.post('/oauth/sign-in/passkey', async (request, reply) => {
    const form = parseInput(PasskeyForm, formOf(request.body));
    return send(
      reply,
      await signInPage.signInWithPasskey(request, reply, {
        requestId: form.request,
        csrf: form.csrf,
        ceremonyId: form.ceremony_id,
        response: passkeyOf(form.passkey_response),
      }),
    );
  });

  app.post('/oauth/sign-in/passkey-options', async (request, reply) => {
    const form = parseInput(OptionsForm, formOf(request.body));
    return signInPage.passkeyOptions(request, reply, {
      requestId: form.request,
      csrf: form.csrf,
      purpose: form.purpose,
      pendingToken: form.pending,
    });
  });

  app.post('/oauth/sign-in/step-up', async (request, reply) => {
    const form = parseInput(StepUpForm, formOf(request.body));
    return send(
      reply,
      await signInPage.stepUp(request, reply, {
        requestId: form.request,
        csrf: form.csrf,
        proof: proofOf(form),
      }),
    );
  });

  app.post('/oauth/sign-in/step-up/email-code', async (request, reply) => {
    const form = parseInput(FrameForm, formOf(request.body));
    return send(
      reply,
      await signInPage.sendStepUpEmailCode(request, reply, { requestId: form.request, csrf: form.csrf }),
    );
  });
}
