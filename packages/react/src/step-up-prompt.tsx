import { useStore } from '@nanostores/react';
import { SessionClientError, type StepUpFactor, type StepUpInput } from '@sessiond/client';
import { type FormEvent, type ReactElement, useCallback, useEffect, useId, useRef, useState } from 'react';
import { classNames } from './lib/device-label.js';
import { useSessionClient } from './session-provider.js';

export interface StepUpPromptLabels {
  title: string;
  description: string;
  chooseFactor: string;
  factor: Record<StepUpFactor, string>;
  password: string;
  totp: string;
  emailCode: string;
  sendEmailCode: string;
  emailCodeSent(to: string): string;
  usePasskey: string;
  submit: string;
  cancel: string;
  loading: string;
  noFactor: string;
  checkAgain: string;
}

const LABELS: StepUpPromptLabels = {
  title: 'Confirm it’s you',
  description: 'To keep your account safe, confirm it’s you before you continue.',
  chooseFactor: 'Confirm with',
  factor: { passkey: 'A passkey', totp: 'Authenticator app', email_code: 'Email code', password: 'Password' },
  password: 'Password',
  totp: 'Code from your authenticator app',
  emailCode: 'Code from the email',
  sendEmailCode: 'Email me a code',
  emailCodeSent: (to) => `We sent a code to ${to}.`,
  usePasskey: 'Use a passkey',
  submit: 'Confirm',
  cancel: 'Cancel',
  loading: 'Finding how you can confirm…',
  noFactor: 'There is no way to confirm it’s you right now. Try again in a few minutes.',
  checkAgain: 'Check again',
};

export interface StepUpPromptProps {
  /** Added to the root's `sessiond-step-up`. */
  className?: string;
  labels?: Partial<StepUpPromptLabels>;
  /**
   * Show the prompt although the server has not asked (before a sensitive change the app knows
   * about). By default it shows exactly while the status is `step_up_required`.
   */
  open?: boolean;
  /** After a successful step-up: e.g. retry the call that was refused. */
  onStepUp?: () => void;
  /** With `open`: a Cancel button that calls this. */
  onCancel?: () => void;
}

/**
 * Asks the user to re-authenticate when the server demands it (status `step_up_required`),
 * offering exactly the factors the server accepts now (`GET /api/auth/session/step-up`) and
 * calling `client.stepUp`. A non-modal dialog: it takes the focus when it opens.
 */
export function StepUpPrompt({
  className,
  labels: custom,
  open,
  onStepUp,
  onCancel,
}: StepUpPromptProps): ReactElement | null {
  const labels = { ...LABELS, ...custom };
  const client = useSessionClient();
  const { status } = useStore(client.state);
  const shown = open ?? status === 'step_up_required';
  const [factors, setFactors] = useState<StepUpFactor[] | null>(null);
  const [chosen, setChosen] = useState<StepUpFactor | null>(null);
  const [secret, setSecret] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [sentTo, setSentTo] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const rootRef = useRef<HTMLElement>(null);
  const id = useId();

  /** Asks the server which factors work now; its answer changes with time (the password's wait). */
  const askFactors = useCallback(
    (isCurrent: () => boolean): void => {
      setFactors(null);
      setError(null);
      client.stepUpFactors().then(
        (offered) => {
          if (!isCurrent()) return;
          setFactors(offered);
          setChosen(offered[0] ?? null);
        },
        (failure: unknown) => {
          if (isCurrent()) setError(messageOf(failure));
        },
      );
    },
    [client],
  );

  useEffect(() => {
    if (!shown) {
      setFactors(null);
      setChosen(null);
      setSecret('');
      setError(null);
      setSentTo(null);
      return;
    }
    let current = true;
    askFactors(() => current);
    return () => {
      current = false;
    };
  }, [shown, askFactors]);

  useEffect(() => {
    // The dialog takes the focus when it opens, its first field once a factor is chosen.
    if (!shown) return;
    const field =
      chosen === null
        ? null
        : rootRef.current?.querySelector<HTMLElement>('input:not([type=radio]), button[type=submit]');
    (field ?? rootRef.current)?.focus();
  }, [shown, chosen]);

  if (!shown) return null;

  const choose = (factor: StepUpFactor): void => {
    setChosen(factor);
    setSecret('');
    setError(null);
  };

  const submit = async (event: FormEvent<HTMLFormElement>): Promise<void> => {
    event.preventDefault();
    if (!chosen) return;
    setBusy(true);
    setError(null);
    try {
      await client.stepUp(inputFor(chosen, secret));
      setSecret('');
      onStepUp?.();
    } catch (failure) {
      setError(messageOf(failure));
      // The server may name other factors now (factor_not_accepted, factor_unavailable).
      const named = failure instanceof SessionClientError ? failure.details?.factors : undefined;
      if (Array.isArray(named)) {
        const offered = named.filter(isStepUpFactor);
        setFactors(offered);
        if (!chosen || !offered.includes(chosen)) setChosen(offered[0] ?? null);
      }
    } finally {
      setBusy(false);
    }
  };

  const sendCode = async (): Promise<void> => {
    setBusy(true);
    setError(null);
    try {
      setSentTo((await client.sendStepUpEmailCode()).sentTo);
    } catch (failure) {
      setError(messageOf(failure));
    } finally {
      setBusy(false);
    }
  };

  return (
    <section
      ref={rootRef}
      role="dialog"
      aria-labelledby={`${id}-title`}
      aria-describedby={`${id}-description`}
      tabIndex={-1}
      className={classNames('sessiond-step-up', className)}
    >
      <h2 id={`${id}-title`} className="sessiond-title">
        {labels.title}
      </h2>
      <p id={`${id}-description`} className="sessiond-description">
        {labels.description}
      </p>
      {error && (
        <p role="alert" className="sessiond-error">
          {error}
        </p>
      )}
      {factors === null && !error && (
        <p role="status" className="sessiond-status">
          {labels.loading}
        </p>
      )}
      {factors !== null && factors.length === 0 && (
        <>
          <p className="sessiond-status">{labels.noFactor}</p>
          <button type="button" className="sessiond-check-again" onClick={() => askFactors(() => true)}>
            {labels.checkAgain}
          </button>
        </>
      )}
      {factors !== null && factors.length > 0 && (
        <form onSubmit={(event) => void submit(event)} className="sessiond-form" aria-busy={busy}>
          {factors.length > 1 && (
            <fieldset className="sessiond-factors">
              <legend>{labels.chooseFactor}</legend>
              {factors.map((factor) => (
                <label key={factor} className="sessiond-factor">
                  <input
                    type="radio"
                    name={`${id}-factor`}
                    value={factor}
                    checked={chosen === factor}
                    onChange={() => choose(factor)}
                  />
                  {labels.factor[factor]}
                </label>
              ))}
            </fieldset>
          )}
          {chosen === 'password' && (
            <Field id={`${id}-secret`} label={labels.password}>
              <input
                id={`${id}-secret`}
                type="password"
                autoComplete="current-password"
                required
                value={secret}
                onChange={(event) => setSecret(event.currentTarget.value)}
              />
            </Field>
          )}
          {chosen === 'totp' && (
            <Field id={`${id}-secret`} label={labels.totp}>
              <CodeInput id={`${id}-secret`} value={secret} onChange={setSecret} />
            </Field>
          )}
          {chosen === 'email_code' &&
            (sentTo === null ? (
              <button
                type="button"
                className="sessiond-send-code"
                disabled={busy}
                onClick={() => void sendCode()}
              >
                {labels.sendEmailCode}
              </button>
            ) : (
              <>
                <p role="status" className="sessiond-status">
                  {labels.emailCodeSent(sentTo)}
                </p>
                <Field id={`${id}-secret`} label={labels.emailCode}>
                  <CodeInput id={`${id}-secret`} value={secret} onChange={setSecret} />
                </Field>
              </>
            ))}
          {(chosen !== 'email_code' || sentTo !== null) && (
            <button type="submit" className="sessiond-submit" disabled={busy}>
              {chosen === 'passkey' ? labels.usePasskey : labels.submit}
            </button>
          )}
          {open !== undefined && onCancel && (
            <button type="button" className="sessiond-cancel" onClick={onCancel}>
              {labels.cancel}
            </button>
          )}
        </form>
      )}
    </section>
  );
}

function Field({ id, label, children }: { id: string; label: string; children: ReactElement }): ReactElement {
  return (
    <div className="sessiond-field">
      <label htmlFor={id}>{label}</label>
      {children}
    </div>
  );
}

function CodeInput({
  id,
  value,
  onChange,
}: {
  id: string;
  value: string;
  onChange: (value: string) => void;
}): ReactElement {
  return (
    <input
      id={id}
      type="text"
      inputMode="numeric"
      autoComplete="one-time-code"
      pattern="[0-9]{6}"
      maxLength={6}
      required
      value={value}
      onChange={(event) => onChange(event.currentTarget.value.trim())}
    />
  );
}

function inputFor(factor: StepUpFactor, secret: string): StepUpInput {
  if (factor === 'passkey') return { passkey: true };
  if (factor === 'totp') return { totp: secret };
  if (factor === 'email_code') return { emailCode: secret };
  return { password: secret };
}

function isStepUpFactor(value: unknown): value is StepUpFactor {
  return value === 'passkey' || value === 'totp' || value === 'email_code' || value === 'password';
}

function messageOf(failure: unknown): string {
  return failure instanceof Error ? failure.message : String(failure);
}
