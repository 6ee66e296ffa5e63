import { type ReactElement, useId, useState } from 'react';
import { classNames } from './lib/device-label.js';
import { useDevices } from './use-devices.js';

export interface DeviceTrustProps {
  /** The device to trust; default this one (the device marked `current`). */
  deviceId?: string;
  /** Added to the root's `sessiond-device-trust`. */
  className?: string;
  label?: string;
  /** Said below the switch, and read with it (`aria-describedby`). */
  description?: string;
}

/**
 * A labelled switch (a checkbox with `role="switch"`) that trusts or untrusts a device. Trust is
 * a sensitive change: a session flagged for step-up is refused, and `StepUpPrompt` takes over.
 */
export function DeviceTrust({
  deviceId,
  className,
  label = 'Trust this device',
  description = 'A trusted device stays signed in longer while you are away.',
}: DeviceTrustProps): ReactElement {
  const { devices, loading, error, trust } = useDevices();
  const device = devices.find((candidate) => (deviceId ? candidate.id === deviceId : candidate.current));
  // What the user asked for, shown until the server's answer (or its refusal) is in.
  const [asked, setAsked] = useState<boolean | null>(null);
  const id = useId();
  const checked = asked ?? device?.trusted ?? false;

  const onChange = async (trusted: boolean): Promise<void> => {
    if (!device) return;
    setAsked(trusted);
    try {
      await trust(device.id, { trusted });
    } catch {
      // Shown through `error`; the switch goes back to the server's value.
    } finally {
      setAsked(null);
    }
  };

  return (
    <div className={classNames('sessiond-device-trust', className)}>
      <input
        id={`${id}-switch`}
        type="checkbox"
        role="switch"
        className="sessiond-switch"
        aria-describedby={`${id}-hint`}
        aria-busy={loading || asked !== null}
        aria-checked={checked}
        checked={checked}
        disabled={!device || asked !== null}
        onChange={(event) => void onChange(event.currentTarget.checked)}
      />
      <label htmlFor={`${id}-switch`} className="sessiond-label">
        {label}
      </label>
      <p id={`${id}-hint`} className="sessiond-hint">
        {description}
      </p>
      {error && (
        <p role="alert" className="sessiond-error">
          {error.message}
        </p>
      )}
    </div>
  );
}
