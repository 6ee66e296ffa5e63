import { normaliseEmail } from '../accounts/email.js';
import { backendSource } from '../backends/backend-users.js';
import { SessiondError } from '../errors.js';
import type { UserRecord } from '../store/records.js';
import type { SessionStore } from '../store/session-store.js';

/** How a looked-up user matched the query. */
export type UserMatch = 'id' | 'email' | `backend:${string}`;

export interface FoundUser {
  id: string;
  email: string | null;
  created_at: string;
  matched_by: UserMatch;
}

/**
 * Finds the users an operator's query names: a user id, an email (as sign-in canonicalises it),
 * or the external id a registered backend knows the user by. Each is one lookup by a unique key
 * (users' primary key, the email index, user_links' (source, subject) key per backend), so a
 * lookup costs the same on any size of table; one person can match more than one way.
 */
export class UserLookup {
  constructor(
    private readonly deps: {
      store: Pick<SessionStore, 'findUserById' | 'findUserByEmail' | 'findLinkedUser'>;
      backendIds: readonly string[];
    },
  ) {}

  async find(query: string): Promise<FoundUser[]> {
    const text = query.trim();
    if (text.length === 0) return [];
    const found = new Map<string, FoundUser>();
    const add = (user: UserRecord | undefined, matchedBy: UserMatch): void => {
      if (user && !found.has(user.id)) {
        found.set(user.id, {
          id: user.id,
          email: user.email,
          created_at: new Date(user.createdAt).toISOString(),
          matched_by: matchedBy,
        });
      }
    };
    add(await this.deps.store.findUserById(text), 'id');
    if (text.includes('@')) add(await this.deps.store.findUserByEmail(emailOf(text)), 'email');
    for (const backendId of this.deps.backendIds) {
      const source = backendSource(backendId);
      add(await this.deps.store.findLinkedUser(source, text), `backend:${backendId}`);
    }
    return [...found.values()];
  }
}

/** An email that sign-in would refuse cannot name a user: looked up as typed (it finds none). */
function emailOf(text: string): string {
  try {
    return normaliseEmail(text);
  } catch (error) {
    if (error instanceof SessiondError) return text;
    throw error;
  }
}
