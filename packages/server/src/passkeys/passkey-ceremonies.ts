import type { CeremonyPurpose, CeremonyStore } from '../ceremonies/ceremony-store.js';
import type { Clock } from '../clock.js';
import { SessiondError } from '../errors.js';
import type { FactorBinding } from '../factors/factor-verifier.js';
import { constantTimeEqual, randomToken, sha256 } from '../lib/crypto.js';

/** How long a WebAuthn challenge lives: long enough for a biometric prompt, short enough to be useless later. */
export const PASSKEY_CEREMONY_TTL_MS = 5 * 60_000;

export type PasskeyPurpose = Extract<
  CeremonyPurpose,
  'passkey_registration' | 'passkey_sign_in' | 'passkey_assertion'
>;

/** Who may complete a ceremony: nobody in particular (a discoverable sign-in), or exactly one binding. */
export type CeremonyOwner = { userId: string; binding: FactorBinding } | { anyone: true };

interface CeremonyData {
  pendingSignInId?: string;
}

/** A used ceremony: the user it was opened for, and a check of the challenge the client signed. */
export interface UsedCeremony {
  userId: string | null;
  /** For `expectedChallenge`: true only for the challenge this ceremony issued. */
  challengeMatches(challenge: string): boolean;
}

/**
 * One WebAuthn challenge per ceremony (CeremonyStore): stored as its hash, single use (consumed
 * before the response is verified, so a replay finds nothing), short-lived, and bound to the
 * session or pending sign-in that opened it.
 */
export class PasskeyCeremonies {
  constructor(
    private readonly ceremonies: CeremonyStore,
    private readonly clock: Clock,
  ) {}

  /** Stores the ceremony of `challenge` (from the generated options); returns its handle. */
  async open(purpose: PasskeyPurpose, challenge: string, owner: CeremonyOwner): Promise<string> {
    const now = this.clock.now();
    const id = randomToken('pkc_');
    const bound = 'binding' in owner ? owner.binding : undefined;
    const data: CeremonyData =
      bound && 'pendingSignInId' in bound ? { pendingSignInId: bound.pendingSignInId } : {};
    await this.ceremonies.open<CeremonyData>(
      {
        id,
        purpose,
        userId: 'userId' in owner ? owner.userId : null,
        sessionId: bound && 'sessionId' in bound ? bound.sessionId : null,
        secretHash: sha256(challenge),
        data,
        createdAt: now,
        expiresAt: now + PASSKEY_CEREMONY_TTL_MS,
      },
      now,
    );
    return id;
  }

  /**
   * Uses the ceremony: it is gone after this call whatever follows. Throws ceremony_invalid if it
   * is unknown, expired, used, of another purpose, or bound to another user or binding.
   */
  async use(id: string, purpose: PasskeyPurpose, owner: CeremonyOwner): Promise<UsedCeremony> {
    const ceremony = await this.ceremonies.consume<CeremonyData>(id, purpose, this.clock.now());
    if (!ceremony) {
      throw new SessiondError(
        'ceremony_invalid',
        'the passkey ceremony is unknown, expired or used: start again',
      );
    }
    if ('binding' in owner) {
      const { binding } = owner;
      const sameBinding =
        'sessionId' in binding
          ? ceremony.sessionId === binding.sessionId
          : ceremony.data.pendingSignInId === binding.pendingSignInId;
      if (ceremony.userId !== owner.userId || !sameBinding) {
        throw new SessiondError('ceremony_invalid', 'the passkey ceremony belongs to another session');
      }
    }
    return {
      userId: ceremony.userId,
      challengeMatches: (challenge) => constantTimeEqual(sha256(challenge), ceremony.secretHash),
    };
  }
}
