import type { AssuranceLevel } from '@sessiond/protocol';
import type { RegisteredBackend } from '../config.js';
import { SessiondError } from '../errors.js';
import type { SessionAuthentication } from '../sessions/session-service.js';

/**
 * The authentication method values of RFC 8176 §2, the only `amr` a backend may assert: a
 * verifier can branch on them knowing what each means, and nothing else reaches a token.
 */
export const AMR_VALUES = [
  'face',
  'fpt',
  'geo',
  'hwk',
  'iris',
  'kba',
  'mca',
  'mfa',
  'otp',
  'pin',
  'pop',
  'pwd',
  'rba',
  'retina',
  'sc',
  'sms',
  'swk',
  'tel',
  'user',
  'vbm',
  'wia',
] as const;

export type AMRValue = (typeof AMR_VALUES)[number];

/**
 * What a backend may assert about how its user authenticated (decision 022): `acr` up to the
 * backend's configured ceiling (`aal2` only for SESSIOND_BACKENDS_AAL2), `amr` from RFC 8176.
 * A backend's assertion never counts as a re-authentication for sessiond's own factors
 * (decision 016): changing a TOTP factor still takes a step-up with a sessiond factor.
 */
export function assertedAuthentication(
  backend: RegisteredBackend,
  asserted: { acr?: AssuranceLevel | undefined; amr?: readonly AMRValue[] | undefined },
  detail: Record<string, unknown>,
): SessionAuthentication {
  const acr = asserted.acr ?? 'aal1';
  if (acr === 'aal2' && backend.maxAcr !== 'aal2') {
    throw new SessiondError(
      'assurance_not_allowed',
      `backend "${backend.id}" may not assert aal2: list it in SESSIOND_BACKENDS_AAL2 if it runs a second factor`,
    );
  }
  return {
    acr,
    ...(asserted.amr !== undefined && asserted.amr.length > 0 ? { amr: [...new Set(asserted.amr)] } : {}),
    detail: { backend: backend.id, ...detail },
  };
}
