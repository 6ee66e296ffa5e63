import { type Kysely, type Migration, type MigrationProvider, sql } from 'kysely';
import { rotationFunctionMigration } from './rotation-function.js';

export type Dialect = 'sqlite' | 'postgres';

/**
 * One set of migrations for both dialects; the only difference is how an auto-increment key
 * is spelled. Migrations are code (not files) so the bundle carries them. Never edit a shipped
 * migration: add a new one.
 */
export function migrationProvider(dialect: Dialect): MigrationProvider {
  const migrations: Record<string, Migration> = {
    '0001_initial': {
      async up(db: Kysely<unknown>): Promise<void> {
        await db.schema
          .createTable('users')
          .addColumn('id', 'text', (c) => c.primaryKey())
          .addColumn('email', 'text', (c) => c.notNull().unique())
          .addColumn('password_hash', 'text', (c) => c.notNull())
          .addColumn('created_at', 'bigint', (c) => c.notNull())
          .execute();

        await db.schema
          .createTable('devices')
          .addColumn('user_id', 'text', (c) => c.notNull().references('users.id').onDelete('cascade'))
          .addColumn('id', 'text', (c) => c.notNull())
          .addColumn('name', 'text')
          .addColumn('platform', 'text')
          .addColumn('browser', 'text')
          .addColumn('os', 'text')
          .addColumn('device_type', 'text')
          .addColumn('user_agent', 'text')
          .addColumn('trusted', 'integer', (c) => c.notNull().defaultTo(0))
          .addColumn('trusted_at', 'bigint')
          .addColumn('first_seen_at', 'bigint', (c) => c.notNull())
          .addColumn('last_seen_at', 'bigint', (c) => c.notNull())
          .addColumn('last_ip', 'text')
          .addPrimaryKeyConstraint('devices_pk', ['user_id', 'id'])
          .execute();

        await db.schema
          .createTable('sessions')
          .addColumn('id', 'text', (c) => c.primaryKey())
          .addColumn('user_id', 'text', (c) => c.notNull().references('users.id').onDelete('cascade'))
          .addColumn('device_id', 'text', (c) => c.notNull())
          .addColumn('client_id', 'text', (c) => c.notNull())
          .addColumn('acr', 'text', (c) => c.notNull())
          .addColumn('ip', 'text')
          .addColumn('user_agent', 'text')
          .addColumn('auth_time', 'bigint', (c) => c.notNull())
          .addColumn('created_at', 'bigint', (c) => c.notNull())
          .addColumn('last_activity_at', 'bigint', (c) => c.notNull())
          .addColumn('idle_timeout_ms', 'bigint', (c) => c.notNull())
          .addColumn('idle_expires_at', 'bigint', (c) => c.notNull())
          .addColumn('expires_at', 'bigint', (c) => c.notNull())
          .addColumn('ended_at', 'bigint')
          .addColumn('end_reason', 'text')
          .addColumn('step_up_required', 'integer', (c) => c.notNull().defaultTo(0))
          .addColumn('refresh_count', 'integer', (c) => c.notNull().defaultTo(0))
          .execute();
        await db.schema
          .createIndex('sessions_user_idx')
          .on('sessions')
          .columns(['user_id', 'ended_at'])
          .execute();
        await db.schema
          .createIndex('sessions_live_idle_idx')
          .on('sessions')
          .columns(['ended_at', 'idle_expires_at'])
          .execute();

        await db.schema
          .createTable('refresh_tokens')
          .addColumn('id', 'text', (c) => c.primaryKey())
          .addColumn('session_id', 'text', (c) => c.notNull().references('sessions.id').onDelete('cascade'))
          .addColumn('token_hash', 'text', (c) => c.notNull().unique())
          .addColumn('status', 'text', (c) => c.notNull())
          .addColumn('created_at', 'bigint', (c) => c.notNull())
          .addColumn('rotated_at', 'bigint')
          .addColumn('successor_id', 'text')
          .addColumn('successor_sealed', 'text')
          .execute();
        await db.schema
          .createIndex('refresh_tokens_session_idx')
          .on('refresh_tokens')
          .column('session_id')
          .execute();

        await db.schema
          .createTable('session_logs')
          .addColumn('id', dialect === 'postgres' ? 'bigserial' : 'integer', (c) =>
            dialect === 'postgres' ? c.primaryKey() : c.primaryKey().autoIncrement(),
          )
          .addColumn('user_id', 'text')
          .addColumn('session_id', 'text')
          .addColumn('device_id', 'text')
          .addColumn('action', 'text', (c) => c.notNull())
          .addColumn('success', 'integer', (c) => c.notNull())
          .addColumn('error', 'text')
          .addColumn('ip', 'text')
          .addColumn('user_agent', 'text')
          .addColumn('actor', 'text')
          .addColumn('detail', 'text')
          .addColumn('created_at', 'bigint', (c) => c.notNull())
          .execute();
        await db.schema
          .createIndex('session_logs_user_idx')
          .on('session_logs')
          .columns(['user_id', 'id'])
          .execute();

        await db.schema
          .createTable('signing_keys')
          .addColumn('kid', 'text', (c) => c.primaryKey())
          .addColumn('alg', 'text', (c) => c.notNull())
          .addColumn('public_jwk', 'text', (c) => c.notNull())
          .addColumn('private_key_sealed', 'text', (c) => c.notNull())
          .addColumn('created_at', 'bigint', (c) => c.notNull())
          .addColumn('retired_at', 'bigint')
          .execute();
      },
    },
    '0002_state': {
      async up(db: Kysely<unknown>): Promise<void> {
        // Per-user state documents (cart, follows, live, …) and the operation log they are built from.
        await db.schema
          .createTable('state_documents')
          .addColumn('user_id', 'text', (c) => c.notNull().references('users.id').onDelete('cascade'))
          .addColumn('namespace', 'text', (c) => c.notNull())
          .addColumn('document', 'text', (c) => c.notNull())
          .addColumn('version', 'bigint', (c) => c.notNull())
          .addColumn('updated_at', 'bigint', (c) => c.notNull())
          .addPrimaryKeyConstraint('state_documents_pk', ['user_id', 'namespace'])
          .execute();
        await db.schema
          .createTable('state_operations')
          .addColumn('user_id', 'text', (c) => c.notNull().references('users.id').onDelete('cascade'))
          .addColumn('seq', 'bigint', (c) => c.notNull())
          .addColumn('namespace', 'text', (c) => c.notNull())
          .addColumn('client_op_id', 'text', (c) => c.notNull())
          .addColumn('operation', 'text', (c) => c.notNull())
          .addColumn('created_at', 'bigint', (c) => c.notNull())
          .addPrimaryKeyConstraint('state_operations_pk', ['user_id', 'seq'])
          .addUniqueConstraint('state_operations_client_op_unique', ['user_id', 'client_op_id'])
          .execute();
        await db.schema
          .createTable('state_cursors')
          .addColumn('user_id', 'text', (c) => c.primaryKey().references('users.id').onDelete('cascade'))
          .addColumn('last_seq', 'bigint', (c) => c.notNull())
          .execute();
      },
    },
    '0003_state_compaction': {
      async up(db: Kysely<unknown>): Promise<void> {
        // Operations older than the retention window are deleted; the cursor remembers the last
        // deleted sequence number, below which catch-up can only be a snapshot.
        await db.schema
          .alterTable('state_cursors')
          .addColumn('compacted_seq', 'bigint', (c) => c.notNull().defaultTo(0))
          .execute();
        await db.schema
          .createIndex('state_operations_created_at')
          .on('state_operations')
          .column('created_at')
          .execute();
      },
    },
    '0004_operations': {
      async up(db: Kysely<unknown>): Promise<void> {
        // TOTP second factor: the secret sealed under the master secret, never stored plain.
        await db.schema.alterTable('users').addColumn('totp_secret_sealed', 'text').execute();
        await db.schema.alterTable('users').addColumn('totp_enabled_at', 'bigint').execute();
        // Admin API keys created by `sessiond admin create-key`: SHA-256 of the key only.
        await db.schema
          .createTable('admin_keys')
          .addColumn('id', 'text', (c) => c.primaryKey())
          .addColumn('key_hash', 'text', (c) => c.notNull().unique())
          .addColumn('name', 'text', (c) => c.notNull())
          .addColumn('created_at', 'bigint', (c) => c.notNull())
          .execute();
        // Webhooks read the audit log as their outbox (rows commit with the change they record);
        // each endpoint remembers the last row it has been sent, and how its retries stand.
        await db.schema
          .createTable('webhook_cursors')
          .addColumn('endpoint', 'text', (c) => c.primaryKey())
          .addColumn('last_log_id', 'bigint', (c) => c.notNull())
          .addColumn('attempts', 'integer', (c) => c.notNull().defaultTo(0))
          .addColumn('next_attempt_at', 'bigint', (c) => c.notNull().defaultTo(0))
          .addColumn('last_error', 'text')
          .execute();
        // Admin search and analytics over the log: by action, by IP, by time.
        await db.schema
          .createIndex('session_logs_action_time_idx')
          .on('session_logs')
          .columns(['action', 'created_at'])
          .execute();
        await db.schema
          .createIndex('session_logs_ip_time_idx')
          .on('session_logs')
          .columns(['ip', 'created_at'])
          .execute();
        await db.schema
          .createIndex('session_logs_time_idx')
          .on('session_logs')
          .column('created_at')
          .execute();
      },
    },
    '0005_totp_replay': {
      async up(db: Kysely<unknown>): Promise<void> {
        // The time step of the last TOTP code accepted: a code is good once (RFC 6238 §5.2).
        await db.schema.alterTable('users').addColumn('totp_last_step', 'bigint').execute();
      },
    },
    '0006_several_nodes': {
      async up(db: Kysely<unknown>): Promise<void> {
        // Webhooks read the log as their outbox. On PostgreSQL ids are taken before commit, so a
        // lower id can commit after a higher one has been read: each row also records its
        // transaction id, and the log is read in (tx_id, id) order only below the oldest running
        // transaction, a prefix no commit can change any more (decision 012). A constant default
        // first (no table rewrite; older rows sort first), then the per-row one.
        await db.schema
          .alterTable('session_logs')
          .addColumn('tx_id', 'bigint', (c) => c.notNull().defaultTo(0))
          .execute();
        if (dialect === 'postgres') {
          await sql`ALTER TABLE session_logs ALTER COLUMN tx_id SET DEFAULT (pg_current_xact_id()::text::bigint)`.execute(
            db,
          );
        }
        await db.schema
          .createIndex('session_logs_tx_idx')
          .on('session_logs')
          .columns(['tx_id', 'id'])
          .execute();
        await db.schema
          .alterTable('webhook_cursors')
          .addColumn('last_tx_id', 'bigint', (c) => c.notNull().defaultTo(0))
          .execute();
        // One node at a time delivers an endpoint's webhooks: the one holding its lease.
        await db.schema.alterTable('webhook_cursors').addColumn('leased_by', 'text').execute();
        await db.schema
          .alterTable('webhook_cursors')
          .addColumn('leased_until', 'bigint', (c) => c.notNull().defaultTo(0))
          .execute();
      },
    },
    '0007_factors_and_device_binding': {
      async up(db: Kysely<unknown>): Promise<void> {
        // A TOTP enrolment in progress is kept apart from the enabled factor, so starting one
        // never disables the factor the user already has (issue 12).
        await db.schema.alterTable('users').addColumn('totp_pending_sealed', 'text').execute();
        // When, and with which factor, the session last re-authenticated (step-up): factor
        // changes need a recent one (decision 016).
        await db.schema.alterTable('sessions').addColumn('reauth_at', 'bigint').execute();
        await db.schema.alterTable('sessions').addColumn('reauth_factor', 'text').execute();
        // SHA-256 of the device secret issued at the device's first sign-in: naming a device
        // id is not enough to be that device (decision 017). Null for devices seen before.
        await db.schema.alterTable('devices').addColumn('secret_hash', 'text').execute();
      },
    },
    '0008_sessions_from_any_authentication': {
      async up(db: Kysely<unknown>): Promise<void> {
        // Who else vouches for a user: a registered backend's external id, an upstream OpenID
        // provider's (issuer, sub). One row per (source, subject): provisioning races settle on
        // its primary key (issue 13).
        await db.schema
          .createTable('user_links')
          .addColumn('source', 'text', (c) => c.notNull())
          .addColumn('subject', 'text', (c) => c.notNull())
          .addColumn('user_id', 'text', (c) => c.notNull().references('users.id').onDelete('cascade'))
          .addColumn('created_at', 'bigint', (c) => c.notNull())
          .addPrimaryKeyConstraint('user_links_pk', ['source', 'subject'])
          .execute();
        await db.schema.createIndex('user_links_user_idx').on('user_links').column('user_id').execute();
        // How the session's user authenticated (RFC 8176 values) and the app's custom claims,
        // both JSON, carried by every access token of the session.
        await db.schema.alterTable('sessions').addColumn('amr', 'text').execute();
        await db.schema.alterTable('sessions').addColumn('claims', 'text').execute();
      },
    },
    '0009_oidc_logins': {
      async up(db: Kysely<unknown>): Promise<void> {
        // A native app's one-time code after an upstream OpenID sign-in (RFC 8252 style): used once,
        // within a minute, by the app holding the PKCE verifier; a replay revokes what it opened.
        await db.schema
          .createTable('oidc_login_codes')
          .addColumn('code_hash', 'text', (c) => c.primaryKey())
          .addColumn('user_id', 'text', (c) => c.notNull().references('users.id').onDelete('cascade'))
          .addColumn('provider', 'text', (c) => c.notNull())
          .addColumn('client_id', 'text', (c) => c.notNull())
          .addColumn('code_challenge', 'text', (c) => c.notNull())
          .addColumn('authentication', 'text', (c) => c.notNull())
          .addColumn('created_at', 'bigint', (c) => c.notNull())
          .addColumn('expires_at', 'bigint', (c) => c.notNull())
          .addColumn('used_at', 'bigint')
          .addColumn('session_id', 'text')
          .addColumn('replayed_at', 'bigint')
          .execute();
        await db.schema
          .createIndex('oidc_login_codes_expires_idx')
          .on('oidc_login_codes')
          .column('expires_at')
          .execute();
      },
    },
    '0010_risk_history_indexes': {
      async up(db: Kysely<unknown>): Promise<void> {
        // Every sign-in reads the user's risk history (SessionStore.riskHistory). Without these,
        // SQLite's planner took the global (action, created_at), (ip, created_at) and (ended_at,
        // idle_expires_at) indexes, so each sign-in read every login and failed login of the
        // window, every log row from its IP (refreshes included), and every live session: sign-in
        // slowed as the server filled (found by bench row 3b). Partial indexes hold only the rows
        // the history counts, so refreshes, which write most log rows, do not pay for them.
        // One per action: a partial index is used only when the query names its very predicate.
        for (const [name, action] of [
          ['session_logs_user_logins_idx', 'login'],
          ['session_logs_user_failed_idx', 'login_failed'],
          ['session_logs_user_reuses_idx', 'refresh_reuse_detected'],
        ] as const) {
          await db.schema
            .createIndex(name)
            .on('session_logs')
            .columns(['user_id', 'created_at'])
            .where(sql.ref('action'), '=', sql.lit(action))
            .execute();
        }
        await db.schema
          .createIndex('session_logs_failed_ip_idx')
          .on('session_logs')
          .columns(['ip', 'created_at'])
          .where(sql.ref('action'), '=', sql.lit('login_failed'))
          .execute();
        // (user_id, ended_at) grows into (user_id, ended_at, idle_expires_at): a user's live
        // sessions by its own index, at no extra write.
        await db.schema
          .createIndex('sessions_user_live_idx')
          .on('sessions')
          .columns(['user_id', 'ended_at', 'idle_expires_at'])
          .execute();
        await db.schema.dropIndex('sessions_user_idx').execute();
      },
    },
    '0011_passkeys_and_ceremonies': {
      async up(db: Kysely<unknown>): Promise<void> {
        // WebAuthn credentials (issue 14). The id is the credential id (base64url), unique across
        // users as WebAuthn requires; the public key is COSE, base64url. `counter` detects clones.
        await db.schema
          .createTable('passkeys')
          .addColumn('id', 'text', (c) => c.primaryKey())
          .addColumn('user_id', 'text', (c) => c.notNull().references('users.id').onDelete('cascade'))
          .addColumn('public_key', 'text', (c) => c.notNull())
          .addColumn('counter', 'bigint', (c) => c.notNull())
          .addColumn('transports', 'text')
          .addColumn('aaguid', 'text')
          .addColumn('device_type', 'text', (c) => c.notNull())
          .addColumn('backed_up', 'integer', (c) => c.notNull())
          .addColumn('name', 'text')
          .addColumn('created_at', 'bigint', (c) => c.notNull())
          .addColumn('last_used_at', 'bigint')
          .execute();
        await db.schema.createIndex('passkeys_user_idx').on('passkeys').column('user_id').execute();
        // Short-lived, single-use proofs of a ceremony in progress: a WebAuthn challenge, an email
        // code, a pending sign-in waiting for its second factor. Shared by all nodes; a row is
        // deleted when it is used, so of two concurrent uses exactly one wins.
        await db.schema
          .createTable('ceremonies')
          .addColumn('id', 'text', (c) => c.primaryKey())
          .addColumn('purpose', 'text', (c) => c.notNull())
          .addColumn('user_id', 'text', (c) => c.references('users.id').onDelete('cascade'))
          .addColumn('session_id', 'text')
          .addColumn('secret_hash', 'text', (c) => c.notNull())
          .addColumn('data', 'text', (c) => c.notNull())
          .addColumn('attempts', 'integer', (c) => c.notNull().defaultTo(0))
          .addColumn('created_at', 'bigint', (c) => c.notNull())
          .addColumn('expires_at', 'bigint', (c) => c.notNull())
          .execute();
        await db.schema.createIndex('ceremonies_expires_idx').on('ceremonies').column('expires_at').execute();
        await db.schema
          .createIndex('ceremonies_user_idx')
          .on('ceremonies')
          .columns(['user_id', 'purpose', 'created_at'])
          .execute();
      },
    },
    '0012_openid_provider': {
      async up(db: Kysely<unknown>): Promise<void> {
        // sessiond as an OpenID provider (issue 15). An app's session opened by an authorization
        // code remembers the browser's sign-in session at sessiond (its SSO session) and the
        // scope granted: RP-initiated logout of the SSO session ends the apps' sessions with it.
        await db.schema.alterTable('sessions').addColumn('sso_session_id', 'text').execute();
        await db.schema.alterTable('sessions').addColumn('scope', 'text').execute();
        await db.schema.createIndex('sessions_sso_idx').on('sessions').column('sso_session_id').execute();
        // Authorization codes (RFC 6749 §4.1, RFC 7636): kept as a hash, used once within a
        // minute by the client that asked, with its PKCE verifier; a replay revokes what the first
        // use issued (RFC 6749 §4.1.2), whichever comes first, as for 0009's login codes.
        await db.schema
          .createTable('authorization_codes')
          .addColumn('code_hash', 'text', (c) => c.primaryKey())
          .addColumn('client_id', 'text', (c) => c.notNull())
          .addColumn('user_id', 'text', (c) => c.notNull().references('users.id').onDelete('cascade'))
          .addColumn('sso_session_id', 'text', (c) => c.notNull())
          .addColumn('redirect_uri', 'text', (c) => c.notNull())
          .addColumn('code_challenge', 'text', (c) => c.notNull())
          .addColumn('scope', 'text', (c) => c.notNull())
          .addColumn('nonce', 'text')
          .addColumn('created_at', 'bigint', (c) => c.notNull())
          .addColumn('expires_at', 'bigint', (c) => c.notNull())
          .addColumn('used_at', 'bigint')
          .addColumn('session_id', 'text')
          .addColumn('replayed_at', 'bigint')
          .execute();
        await db.schema
          .createIndex('authorization_codes_expires_idx')
          .on('authorization_codes')
          .column('expires_at')
          .execute();
      },
    },
    '0013_locations': {
      async up(db: Kysely<unknown>): Promise<void> {
        // Location (issue 17, decision 035): country and city looked up from the full IP at the
        // request (SESSIOND_GEOIP), kept as JSON {country, city} where the session opened and
        // where the device last signed in, so a session list can say where without keeping the IP.
        await db.schema.alterTable('sessions').addColumn('location', 'text').execute();
        await db.schema.alterTable('devices').addColumn('location', 'text').execute();
      },
    },
    '0014_erasure': {
      async up(db: Kysely<unknown>): Promise<void> {
        // Erasure (issue 17, decision 036): the user row stays as a tombstone (its id, when it
        // was created and erased; no email, password or factor), so the ended sessions it owns
        // stay for the revocation stream's backlog and the pseudonymised log keeps its user id.
        await db.schema.alterTable('users').addColumn('erased_at', 'bigint').execute();
      },
    },
    '0015_push_subscriptions': {
      async up(db: Kysely<unknown>): Promise<void> {
        // Web Push (issue 17, decision 037). One subscription per device of a user; a new one
        // replaces it. The endpoint and keys are secrets (whoever holds them can push to the
        // browser): sealed together; the endpoint's SHA-256 finds the row, so one browser's
        // endpoint belongs to one user at a time. Forgetting the device, or the user, drops it.
        await db.schema
          .createTable('push_subscriptions')
          .addColumn('user_id', 'text', (c) => c.notNull().references('users.id').onDelete('cascade'))
          .addColumn('device_id', 'text', (c) => c.notNull())
          .addColumn('endpoint_hash', 'text', (c) => c.notNull().unique())
          .addColumn('subscription_sealed', 'text', (c) => c.notNull())
          .addColumn('created_at', 'bigint', (c) => c.notNull())
          .addPrimaryKeyConstraint('push_subscriptions_pk', ['user_id', 'device_id'])
          .addForeignKeyConstraint(
            'push_subscriptions_device_fk',
            ['user_id', 'device_id'],
            'devices',
            ['user_id', 'id'],
            (fk) => fk.onDelete('cascade'),
          )
          .execute();
        // Per-user opt-out: no row means every kind on. `disabled_kinds` is a JSON array.
        await db.schema
          .createTable('push_preferences')
          .addColumn('user_id', 'text', (c) => c.primaryKey().references('users.id').onDelete('cascade'))
          .addColumn('enabled', 'integer', (c) => c.notNull())
          .addColumn('disabled_kinds', 'text', (c) => c.notNull())
          .addColumn('updated_at', 'bigint', (c) => c.notNull())
          .execute();
        // The VAPID key pair (RFC 8292) when the configuration names none: generated by the
        // first node, read by every other, so all sign with the key browsers subscribed with.
        await db.schema
          .createTable('push_vapid_keys')
          .addColumn('id', 'text', (c) => c.primaryKey())
          .addColumn('public_key', 'text', (c) => c.notNull())
          .addColumn('private_key_sealed', 'text', (c) => c.notNull())
          .addColumn('created_at', 'bigint', (c) => c.notNull())
          .execute();
      },
    },
    '0016_retention': {
      async up(db: Kysely<unknown>): Promise<void> {
        // Retention (issue 17, decision 034) picks devices gone quiet by their last sign-in;
        // without this it reads every device each sweep. Ended sessions are found by
        // sessions_live_idle_idx (ended_at first), old log rows by session_logs_time_idx and old
        // state operations by state_operations_created_at.
        await db.schema.createIndex('devices_last_seen_idx').on('devices').column('last_seen_at').execute();
      },
    },
    // Refresh rotation in one round trip on PostgreSQL (issue 18, decision 038): a function, no table.
    '0017_postgres_refresh_rotation': rotationFunctionMigration(dialect),
  };
  return { getMigrations: async () => migrations };
}
