import type { ActiveSession } from '@sessiond/client';
import { type ReactElement, useEffect, useRef, useState } from 'react';
import { classNames, deviceLabel } from './lib/device-label.js';
import { useSessions } from './use-sessions.js';

export interface SessionListLabels {
  /** The list's accessible name. */
  list: string;
  thisDevice: string;
  lastActive: string;
  /** The visible text of each revoke button. */
  revoke: string;
  /** Each revoke button's accessible name, naming the session's device. */
  revokeNamed(device: string): string;
  /** Announced once a session is ended. */
  revoked(device: string): string;
  revokeAll: string;
  confirmRevokeAll(count: number): string;
  confirm: string;
  cancel: string;
  revokedAll(count: number): string;
  loading: string;
  empty: string;
}

const LABELS: SessionListLabels = {
  list: 'Signed-in sessions',
  thisDevice: 'This device',
  lastActive: 'Last active',
  revoke: 'Sign out',
  revokeNamed: (device) => `Sign out ${device}`,
  revoked: (device) => `Signed out ${device}`,
  revokeAll: 'Sign out all other sessions',
  confirmRevokeAll: (count) =>
    count === 1 ? 'Sign out 1 other session?' : `Sign out ${count} other sessions?`,
  confirm: 'Yes, sign them out',
  cancel: 'Cancel',
  revokedAll: (count) => (count === 1 ? 'Signed out 1 other session' : `Signed out ${count} other sessions`),
  loading: 'Loading sessions…',
  empty: 'No signed-in sessions.',
};

export interface SessionListProps {
  /** Added to the root's `sessiond-session-list`. */
  className?: string;
  labels?: Partial<SessionListLabels>;
  /** Default: the browser's locale (`toLocaleString`). */
  formatTime?: (iso: string) => string;
}

/**
 * The user's signed-in sessions: this device marked, a sign-out button for each other one, and
 * "sign out all other sessions" behind a confirmation. No styles: class names only.
 */
export function SessionList({ className, labels: custom, formatTime }: SessionListProps): ReactElement {
  const labels = { ...LABELS, ...custom };
  const { sessions, loading, error, revoke, revokeAll } = useSessions();
  const [busy, setBusy] = useState<string | null>(null);
  const [confirming, setConfirming] = useState(false);
  const [announcement, setAnnouncement] = useState('');
  const confirmRef = useRef<HTMLButtonElement>(null);
  const revokeAllRef = useRef<HTMLButtonElement>(null);
  const wasConfirming = useRef(false);
  const format = formatTime ?? ((iso: string) => new Date(iso).toLocaleString());
  const others = sessions.filter((session) => !session.current);

  useEffect(() => {
    // The confirmation takes the focus; when it closes, the button that opened it gets it back.
    if (confirming) confirmRef.current?.focus();
    else if (wasConfirming.current) revokeAllRef.current?.focus();
    wasConfirming.current = confirming;
  }, [confirming]);

  const onRevoke = async (session: ActiveSession, name: string): Promise<void> => {
    setBusy(session.id);
    try {
      await revoke(session.id);
      setAnnouncement(labels.revoked(name));
    } catch {
      // Shown through `error`; a demanded step-up through the session status.
    } finally {
      setBusy(null);
    }
  };

  const onConfirmAll = async (): Promise<void> => {
    const count = others.length;
    setBusy('all');
    try {
      await revokeAll();
      setAnnouncement(labels.revokedAll(count));
    } catch {
      // As above.
    } finally {
      setBusy(null);
      setConfirming(false);
    }
  };

  return (
    <div className={classNames('sessiond-session-list', className)}>
      {error && (
        <p role="alert" className="sessiond-error">
          {error.message}
        </p>
      )}
      <p role="status" className="sessiond-status">
        {loading && sessions.length === 0 ? labels.loading : announcement}
      </p>
      {!loading && sessions.length === 0 && !error && <p className="sessiond-empty">{labels.empty}</p>}
      <ul aria-label={labels.list} aria-busy={loading} className="sessiond-sessions">
        {sessions.map((session) => {
          const name = deviceLabel(session.device, session.user_agent);
          return (
            <li
              key={session.id}
              className="sessiond-session"
              data-current={session.current ? 'true' : undefined}
              aria-current={session.current ? 'true' : undefined}
            >
              {/* Spaces and separators between the parts: read (and shown unstyled) as words. */}
              <span className="sessiond-session-device">{name}</span>{' '}
              {session.current && (
                <>
                  <span className="sessiond-this-device">({labels.thisDevice})</span>{' '}
                </>
              )}
              <span className="sessiond-session-detail">
                {session.ip && <span className="sessiond-session-ip">{session.ip} · </span>}
                <span className="sessiond-session-activity">
                  {labels.lastActive}{' '}
                  <time dateTime={session.last_activity_at}>{format(session.last_activity_at)}</time>
                </span>
              </span>{' '}
              {!session.current && (
                <button
                  type="button"
                  className="sessiond-revoke"
                  aria-label={labels.revokeNamed(name)}
                  disabled={busy !== null}
                  onClick={() => void onRevoke(session, name)}
                >
                  {labels.revoke}
                </button>
              )}
            </li>
          );
        })}
      </ul>
      {others.length > 0 &&
        (confirming ? (
          <fieldset className="sessiond-confirm">
            <legend>{labels.confirmRevokeAll(others.length)}</legend>
            <button
              ref={confirmRef}
              type="button"
              className="sessiond-confirm-yes"
              disabled={busy !== null}
              onClick={() => void onConfirmAll()}
            >
              {labels.confirm}
            </button>
            <button type="button" className="sessiond-confirm-cancel" onClick={() => setConfirming(false)}>
              {labels.cancel}
            </button>
          </fieldset>
        ) : (
          <button
            ref={revokeAllRef}
            type="button"
            className="sessiond-revoke-all"
            disabled={busy !== null}
            onClick={() => setConfirming(true)}
          >
            {labels.revokeAll}
          </button>
        ))}
    </div>
  );
}
