import { randomUUID } from 'node:crypto';
import { looksLikeEmail, normaliseEmail } from '../accounts/email.js';
import type { Clock } from '../clock.js';
import { SessiondError } from '../errors.js';
import type { UserRecord } from '../store/records.js';
import { EmailTakenError, type SessionStore } from '../store/session-store.js';

/** How a backend names the user of a session it creates (decision 022). */
export interface BackendUserReference {
  /** A sessiond user id: that user, who must exist. */
  id?: string | undefined;
  /** The backend's own id for the user: linked to a sessiond user, provisioned on first use. */
  externalId?: string | undefined;
  /** Only with `externalId`: given to a user provisioned now. Never attaches to an existing user. */
  email?: string | undefined;
}

export interface ResolvedUser {
  user: UserRecord;
  /** True when this call provisioned the user. */
  provisioned: boolean;
  /** True when this call linked the external id to an existing user (`id` with `externalId`). */
  linked: boolean;
}

/** The `user_links.source` of a backend: each backend has its own external id space. */
export function backendSource(backendId: string): string {
  return `backend:${backendId}`;
}

/**
 * Maps a backend's reference to a sessiond user. The rules (decision 022):
 * - `id` alone: that user (404 `user_not_found` if none).
 * - `external_id`: the user linked to (backend, external_id); if none, a new user (no password,
 *   `email` if given) is provisioned and linked, race-safe: parallel first calls get one user.
 * - `id` and `external_id`: links the external id to that existing user, explicitly; 409
 *   `external_id_taken` if the external id is another user's or the user has another one here.
 * - An email alone names nobody, and an email that is an existing user's never links to it
 *   (409 `email_taken`): an email is not proof that the backend's user owns that account.
 */
export class BackendUsers {
  constructor(
    private readonly store: SessionStore,
    private readonly clock: Clock,
  ) {}

  async resolve(backendId: string, reference: BackendUserReference): Promise<ResolvedUser> {
    const { id, externalId, email } = reference;
    if (email !== undefined && (externalId === undefined || id !== undefined)) {
      throw new SessiondError(
        'invalid_request',
        'user.email is only for provisioning a user by user.external_id; name an existing user by user.id or user.external_id',
      );
    }
    if (id === undefined && externalId === undefined) {
      throw new SessiondError('invalid_request', 'user needs id or external_id');
    }
    if (externalId === undefined)
      return { user: await this.requireUser(id as string), provisioned: false, linked: false };
    if (id !== undefined) return this.#link(backendId, id, externalId);
    return this.#linkedOrProvisioned(backendId, externalId, email);
  }

  async requireUser(id: string): Promise<UserRecord> {
    const user = await this.store.findUserById(id);
    if (!user) throw new SessiondError('user_not_found', 'no such user');
    return user;
  }

  /** The user (backend, external id) names, or 404 `user_not_found`. */
  async findByExternalId(backendId: string, externalId: string): Promise<UserRecord> {
    const user = await this.store.findLinkedUser(backendSource(backendId), externalId);
    if (!user) throw new SessiondError('user_not_found', 'no user has this external_id for this backend');
    return user;
  }

  /** The backend's external id for a user, if it has one. */
  async externalIdOf(backendId: string, userId: string): Promise<string | null> {
    const source = backendSource(backendId);
    const links = await this.store.listUserLinks(userId);
    return links.find((link) => link.source === source)?.subject ?? null;
  }

  async #linkedOrProvisioned(
    backendId: string,
    externalId: string,
    email: string | undefined,
  ): Promise<ResolvedUser> {
    const now = this.clock.now();
    const normalised = email === undefined ? null : normaliseEmail(email);
    if (normalised !== null && !looksLikeEmail(normalised)) {
      throw new SessiondError('invalid_request', 'user.email is not a valid address');
    }
    const newUser: UserRecord = { id: randomUUID(), email: normalised, passwordHash: null, createdAt: now };
    try {
      const { user, created } = await this.store.linkOrProvisionUser({
        source: backendSource(backendId),
        subject: externalId,
        newUser,
        now,
      });
      return { user, provisioned: created, linked: false };
    } catch (error) {
      if (!(error instanceof EmailTakenError)) throw error;
      throw new SessiondError(
        'email_taken',
        'user.email belongs to an existing sessiond user; an email never links accounts: link by user.id and user.external_id',
      );
    }
  }

  async #link(backendId: string, id: string, externalId: string): Promise<ResolvedUser> {
    const source = backendSource(backendId);
    const user = await this.requireUser(id);
    const owner = await this.store.findLinkedUser(source, externalId);
    if (owner) {
      if (owner.id !== user.id) throw externalIdTaken();
      return { user, provisioned: false, linked: false };
    }
    if ((await this.externalIdOf(backendId, user.id)) !== null) {
      throw new SessiondError(
        'external_id_taken',
        'this user already has another external_id for this backend',
      );
    }
    const linked = await this.store.linkUser({
      source,
      subject: externalId,
      userId: user.id,
      createdAt: this.clock.now(),
    });
    // Lost a race for the pair: fine only if the winner linked it to this same user.
    if (!linked && (await this.store.findLinkedUser(source, externalId))?.id !== user.id)
      throw externalIdTaken();
    return { user, provisioned: false, linked };
  }
}

function externalIdTaken(): SessiondError {
  return new SessiondError('external_id_taken', 'this external_id is linked to another sessiond user');
}
