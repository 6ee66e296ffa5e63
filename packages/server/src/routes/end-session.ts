import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { requestContext } from '../http/authenticate.js';
import { acceptFormBodies } from '../oauth/form.js';
import {
  type EndSessionDecision,
  EndSessionRefused,
  type EndSessionRequest,
  parseEndSessionRequest,
} from '../provider/end-session.js';
import { confirmLogoutPage, logoutRefusedPage, signedOutPage } from '../provider/logout-page.js';

/** Nothing but this HTML: no script, no style, no framing, forms only to sessiond (and its redirect). */
function csp(redirect: string | undefined): string {
  const formAction = ["'self'"];
  // A form's redirect is held to form-action too (CSP3 §6.4.1 in Chromium).
  if (redirect !== undefined) formAction.push(sourceOf(redirect));
  return [
    "default-src 'none'",
    `form-action ${formAction.join(' ')}`,
    "frame-ancestors 'none'",
    "base-uri 'none'",
  ].join('; ');
}

function sourceOf(uri: string): string {
  const url = new URL(uri);
  // CSP's host-source has no IPv6 literals (Chromium drops 'http://[::1]:port' and blocks the
  // redirect): a [::1] loopback redirect is named by its scheme.
  if (url.hostname.startsWith('[')) return url.protocol;
  return url.origin === 'null' ? url.protocol : url.origin;
}

/**
 * `GET|POST /oauth/logout`: the end_session_endpoint (OpenID RP-Initiated Logout 1.0, decision
 * 030). A POST with `csrf` is the confirmation form's answer; any other request is the app's.
 */
export async function endSessionRoutes(app: FastifyInstance): Promise<void> {
  const { endSession, ssoCookie } = app.sessiond;

  acceptFormBodies(app, (message) => new EndSessionRefused(message));
  app.addHook('onSend', async (_request, reply) => {
    reply
      .header('cache-control', 'no-store')
      .header('x-frame-options', 'DENY')
      .header('referrer-policy', 'no-referrer')
      .header('x-content-type-options', 'nosniff');
    if (!reply.hasHeader('content-security-policy')) reply.header('content-security-policy', csp(undefined));
  });
  app.setErrorHandler((error, request, reply) => {
    if (error instanceof EndSessionRefused) return refuse(reply, error.message);
    if (error instanceof Error && 'statusCode' in error && Number(error.statusCode) < 500) {
      return refuse(reply, error.message);
    }
    request.log.error({ err: error }, 'unhandled error');
    return reply.code(500).type('text/html; charset=utf-8').send(logoutRefusedPage('Something went wrong'));
  });

  const answer = async (
    request: FastifyRequest,
    reply: FastifyReply,
    decision: EndSessionDecision,
    input: EndSessionRequest,
  ) => {
    if (decision.kind === 'confirm') {
      return reply
        .header('content-security-policy', csp(decision.redirect))
        .type('text/html; charset=utf-8')
        .send(
          confirmLogoutPage({
            clientName: decision.client?.name,
            csrf: endSession.csrfToken(decision.sso),
            fields: {
              client_id: decision.client?.id,
              post_logout_redirect_uri:
                decision.redirect === undefined ? undefined : input.postLogoutRedirectURI,
              state: decision.redirect === undefined ? undefined : input.state,
            },
          }),
        );
    }
    if (decision.kind === 'sign_out') {
      await endSession.signOut(decision.sso, requestContext(request));
      ssoCookie.clear(reply);
    }
    if (decision.redirect !== undefined) return reply.redirect(decision.redirect, 302);
    return reply.type('text/html; charset=utf-8').send(signedOutPage());
  };

  const handle = async (request: FastifyRequest, reply: FastifyReply, params: URLSearchParams) => {
    const input = parseEndSessionRequest(params);
    const sso = await ssoCookie.read(request);
    if (params.has('csrf')) {
      // The confirmation form: from this page only, for this browser's SSO session.
      const site = request.headers['sec-fetch-site'];
      if (site !== undefined && site !== 'same-origin')
        return refuse(reply, 'the form was not sent from this page');
      if (!sso) return answer(request, reply, await endSession.decide(input, undefined), input);
      if (!endSession.checkCSRF(sso, params.get('csrf') ?? undefined)) {
        return refuse(reply, 'the form has expired; go back to the app and sign out again');
      }
      const decision = await endSession.decide(input, sso);
      return answer(request, reply, { kind: 'sign_out', sso, redirect: decision.redirect }, input);
    }
    return answer(request, reply, await endSession.decide(input, sso), input);
  };

  app.get('/oauth/logout', async (request, reply) =>
    handle(request, reply, new URL(request.url, 'http://sessiond').searchParams),
  );
  app.post('/oauth/logout', async (request, reply) => {
    if (!(request.body instanceof URLSearchParams)) {
      return refuse(reply, 'the request must be a form (application/x-www-form-urlencoded)');
    }
    return handle(request, reply, request.body);
  });
}

function refuse(reply: FastifyReply, message: string): FastifyReply {
  return reply.code(400).type('text/html; charset=utf-8').send(logoutRefusedPage(message));
}
