import type { AuthenticationResponseJSON, RegistrationResponseJSON } from '@simplewebauthn/server';
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { authenticateRequest, requestContext } from '../http/authenticate.js';
import { AppClientId } from '../http/client-id.js';
import { NoFields, parseInput } from '../http/parse.js';
import { CeremonyId, PasskeyAssertion, PasskeyAttestation } from '../http/passkey-bodies.js';
import { passkeyView } from '../http/views.js';
import { DeviceBody } from './auth.js';

/** A credential id in a path: base64url, as the list names it. */
const CredentialId = z
  .string()
  .min(1)
  .max(1024)
  .regex(/^[A-Za-z0-9_-]+$/, 'must be base64url');

const RegisterBody = z.strictObject({
  ceremony_id: CeremonyId,
  response: PasskeyAttestation,
  name: z.string().trim().min(1).max(100).optional(),
});
const SignInBody = z.strictObject({
  ceremony_id: CeremonyId,
  response: PasskeyAssertion,
  client_id: AppClientId.optional(),
  device: DeviceBody.optional(),
});
const PasskeyParams = z.strictObject({ id: CredentialId });

/** Passkeys (decision 025): register, list, remove, sign in, and the step-up's options. */
export async function passkeyRoutes(app: FastifyInstance): Promise<void> {
  const { passkeys, transport } = app.sessiond;

  app.post('/api/auth/passkeys/register/options', async (request) => {
    const auth = await authenticateRequest(app.sessiond, request);
    parseInput(NoFields, request.body);
    const { ceremonyId, options } = await passkeys.registrationOptions(auth);
    return { ceremony_id: ceremonyId, options };
  });

  app.post('/api/auth/passkeys/register', async (request, reply) => {
    const auth = await authenticateRequest(app.sessiond, request);
    const body = parseInput(RegisterBody, request.body);
    const passkey = await passkeys.register(
      auth,
      {
        ceremonyId: body.ceremony_id,
        response: body.response as RegistrationResponseJSON,
        ...(body.name !== undefined ? { name: body.name } : {}),
      },
      requestContext(request),
    );
    return reply.code(201).send({ passkey: passkeyView(passkey) });
  });

  app.get('/api/auth/passkeys', async (request) => {
    const auth = await authenticateRequest(app.sessiond, request);
    parseInput(NoFields, request.query, 'query');
    const list = await passkeys.list(auth.session.userId);
    return { passkeys: list.map(passkeyView) };
  });

  app.delete('/api/auth/passkeys/:id', async (request) => {
    const auth = await authenticateRequest(app.sessiond, request);
    const { id } = parseInput(PasskeyParams, request.params, 'path');
    await passkeys.remove(auth, id, requestContext(request));
    return { removed: true };
  });

  app.post('/api/auth/passkeys/sign-in/options', async (request) => {
    parseInput(NoFields, request.body);
    const { ceremonyId, options } = await passkeys.signInOptions();
    return { ceremony_id: ceremonyId, options };
  });

  app.post('/api/auth/passkeys/sign-in', async (request, reply) => {
    const mode = transport.transportOf(request);
    const body = parseInput(SignInBody, request.body);
    const device = mode === 'cookie' ? transport.deviceOf(request, body.device) : body.device;
    const grant = await passkeys.signIn(
      {
        ceremonyId: body.ceremony_id,
        response: body.response as AuthenticationResponseJSON,
        ...(body.client_id !== undefined ? { clientId: body.client_id } : {}),
        ...(device !== undefined ? { device } : {}),
      },
      requestContext(request),
    );
    return transport.send(reply, mode, grant);
  });

  app.post('/api/auth/session/step-up/passkey-options', async (request) => {
    const auth = await authenticateRequest(app.sessiond, request);
    parseInput(NoFields, request.body);
    const { ceremonyId, options } = await passkeys.stepUpOptions(auth);
    return { ceremony_id: ceremonyId, options };
  });
}
