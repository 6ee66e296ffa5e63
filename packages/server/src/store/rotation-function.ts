import { type Kysely, type Migration, sql } from 'kysely';
import type { Dialect } from './migrations.js';
import { toSession } from './row-mappers.js';
import type { Database } from './schema.js';
import type { RotateRefreshTokenInput, RotationOutcome } from './session-store.js';

/**
 * Refresh rotation on PostgreSQL in one round trip (issue 18, docs/decisions/038): the rules of
 * decision 001 (`rotateWinner` and `classifyLoser` in kysely-store.ts) as one PL/pgSQL function,
 * called as one statement, so it is its own transaction: the row lock, the checks, the writes and
 * the commit happen without the node waiting on the network between them. Before, a refresh was
 * BEGIN, five statements and COMMIT, seven round trips with the row locks held across them.
 *
 * The function is resolved through the connection's search_path, like every table, so each
 * schema (a test's, or a deployment's) has its own copy next to its tables. The log rows it
 * writes take `tx_id` from the column default like any other insert (decision 012, webhook
 * order). Log `detail` texts are written exactly as JSON.stringify writes them.
 */
export function rotationFunctionMigration(dialect: Dialect): Migration {
  return {
    async up(db: Kysely<unknown>): Promise<void> {
      // SQLite has no stored functions and needs none: its units of work run in-process, in
      // group commits (decision 005). Tables, columns and indexes stay the same on both.
      if (dialect !== 'postgres') return;
      await sql`
CREATE FUNCTION sessiond_rotate_refresh_token(
  p_token_hash text, p_successor_id text, p_successor_hash text, p_successor_sealed text,
  p_now bigint, p_grace_ms bigint, p_ip text, p_user_agent text)
RETURNS TABLE (out_kind text, out_session jsonb, out_sealed text, out_previous_ip text,
               out_previous_user_agent text)
LANGUAGE plpgsql AS $fn$
DECLARE
  v_token record;
  v_session record;
  v_ended record;
  v_previous_ip text;
  v_previous_user_agent text;
  v_successor_status text;
BEGIN
  -- The token's row lock decides the race (decision 001): a concurrent caller waits here for the
  -- winner to commit, then reads the committed row and is no longer 'active'.
  SELECT * INTO v_token FROM refresh_tokens t WHERE t.token_hash = p_token_hash FOR UPDATE;
  IF NOT FOUND THEN
    RETURN QUERY SELECT 'not_found'::text, NULL::jsonb, NULL::text, NULL::text, NULL::text;
    RETURN;
  END IF;

  IF v_token.status = 'active' THEN
    SELECT s.ip, s.user_agent INTO v_previous_ip, v_previous_user_agent
      FROM sessions s WHERE s.id = v_token.session_id;
    -- Only a session that is live right now may slide; a timed-out one is reported, not revived,
    -- and its token stays as it was (nothing below runs).
    UPDATE sessions s
       SET last_activity_at = p_now, idle_expires_at = p_now + s.idle_timeout_ms, ip = p_ip,
           user_agent = p_user_agent, refresh_count = s.refresh_count + 1
     WHERE s.id = v_token.session_id AND s.ended_at IS NULL
       AND s.idle_expires_at > p_now AND s.expires_at > p_now
    RETURNING s.* INTO v_session;
    IF NOT FOUND THEN
      SELECT * INTO v_session FROM sessions s WHERE s.id = v_token.session_id;
      RETURN QUERY SELECT 'session_ended'::text, to_jsonb(v_session), NULL::text, NULL::text, NULL::text;
      RETURN;
    END IF;
    UPDATE refresh_tokens t
       SET status = 'rotated', rotated_at = p_now, successor_id = p_successor_id,
           successor_sealed = p_successor_sealed
     WHERE t.id = v_token.id;
    INSERT INTO refresh_tokens (id, session_id, token_hash, status, created_at, rotated_at,
                                successor_id, successor_sealed)
    VALUES (p_successor_id, v_session.id, p_successor_hash, 'active', p_now, NULL, NULL, NULL);
    INSERT INTO session_logs (user_id, session_id, device_id, action, success, error, ip,
                              user_agent, actor, detail, created_at)
    VALUES (v_session.user_id, v_session.id, v_session.device_id, 'refresh', 1, NULL, p_ip,
            p_user_agent, NULL, NULL, p_now);
    RETURN QUERY SELECT 'rotated'::text, to_jsonb(v_session), NULL::text, v_previous_ip,
                        v_previous_user_agent;
    RETURN;
  END IF;

  -- The token was replaced (or revoked): classifyLoser's rules, in its order.
  SELECT * INTO v_session FROM sessions s WHERE s.id = v_token.session_id;
  IF NOT FOUND THEN
    RETURN QUERY SELECT 'not_found'::text, NULL::jsonb, NULL::text, NULL::text, NULL::text;
    RETURN;
  END IF;
  IF v_session.ended_at IS NOT NULL OR v_token.status = 'revoked'
     OR v_session.idle_expires_at <= p_now OR v_session.expires_at <= p_now THEN
    RETURN QUERY SELECT 'session_ended'::text, to_jsonb(v_session), NULL::text, NULL::text, NULL::text;
    RETURN;
  END IF;
  IF v_token.rotated_at IS NOT NULL AND p_now - v_token.rotated_at < p_grace_ms
     AND v_token.successor_sealed IS NOT NULL AND v_token.successor_id IS NOT NULL THEN
    SELECT t.status INTO v_successor_status FROM refresh_tokens t WHERE t.id = v_token.successor_id;
    IF v_successor_status = 'active' THEN
      INSERT INTO session_logs (user_id, session_id, device_id, action, success, error, ip,
                                user_agent, actor, detail, created_at)
      VALUES (v_session.user_id, v_session.id, v_session.device_id, 'refresh', 1, NULL, p_ip,
              p_user_agent, NULL, '{"grace":true}', p_now);
      RETURN QUERY SELECT 'grace'::text, to_jsonb(v_session), v_token.successor_sealed::text,
                          NULL::text, NULL::text;
      RETURN;
    END IF;
  END IF;

  -- Reuse is theft: end the session, revoke every token of it, log it (endLiveSession).
  UPDATE sessions s SET ended_at = p_now, end_reason = 'refresh_token_reused'
   WHERE s.id = v_session.id AND s.ended_at IS NULL
  RETURNING s.* INTO v_ended;
  IF NOT FOUND THEN
    RETURN QUERY SELECT 'reused'::text, to_jsonb(v_session), NULL::text, NULL::text, NULL::text;
    RETURN;
  END IF;
  UPDATE refresh_tokens t SET status = 'revoked', successor_sealed = NULL
   WHERE t.session_id = v_session.id AND t.status <> 'revoked';
  INSERT INTO session_logs (user_id, session_id, device_id, action, success, error, ip,
                            user_agent, actor, detail, created_at)
  VALUES (v_session.user_id, v_session.id, v_session.device_id, 'refresh_reuse_detected', 0,
          'refresh_token_reused', p_ip, p_user_agent, 'system',
          format('{"rotated_at":%s,"grace_ms":%s}', coalesce(v_token.rotated_at::text, 'null'), p_grace_ms),
          p_now);
  RETURN QUERY SELECT 'reused'::text, to_jsonb(v_ended), NULL::text, NULL::text, NULL::text;
END
$fn$`.execute(db);
    },
  };
}

interface RotationRow {
  outKind: RotationOutcome['kind'];
  outSession: Record<string, unknown> | null;
  outSealed: string | null;
  outPreviousIp: string | null;
  outPreviousUserAgent: string | null;
}

/** rotateRefreshToken on PostgreSQL: one statement, so one round trip and its own transaction. */
export async function rotateInOneStatement(
  db: Kysely<Database>,
  input: RotateRefreshTokenInput,
): Promise<RotationOutcome> {
  const { successor } = input;
  const { rows } = await sql<RotationRow>`SELECT * FROM sessiond_rotate_refresh_token(
    ${input.tokenHash}::text, ${successor.id}::text, ${successor.tokenHash}::text, ${successor.sealed}::text,
    ${input.now}::bigint, ${input.graceMs}::bigint, ${input.ip}::text, ${input.userAgent}::text)`.execute(db);
  const row = rows[0];
  if (!row || row.outKind === 'not_found' || row.outSession === null) return { kind: 'not_found' };
  const session = toSession(camelKeys(row.outSession) as Parameters<typeof toSession>[0]);
  switch (row.outKind) {
    case 'rotated':
      return {
        kind: 'rotated',
        session,
        previous: { ip: row.outPreviousIp, userAgent: row.outPreviousUserAgent },
      };
    case 'grace':
      return { kind: 'grace', session, successorSealed: row.outSealed ?? '' };
    case 'reused':
    case 'session_ended':
      return { kind: row.outKind, session };
  }
}

/**
 * A row as to_jsonb spells it (snake_case) in the shape the row mappers read. Kysely's
 * CamelCasePlugin may already have converted nested keys; converting twice changes nothing.
 */
function camelKeys(row: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(
    Object.entries(row).map(([key, value]) => [
      key.replace(/_([a-z0-9])/g, (_, c: string) => c.toUpperCase()),
      value,
    ]),
  );
}
