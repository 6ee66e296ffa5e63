/** Waits for a condition that depends on the network (a reconnect), failing with `what`. */
export async function until(condition: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

export interface LogLine {
  level: 'info' | 'warn' | 'error';
  details: object;
  message: string;
}

/** A logger that keeps its lines for assertions. */
export function recordingLog(): {
  lines: LogLine[];
  info(details: object, message: string): void;
  warn(details: object, message: string): void;
  error(details: object, message: string): void;
} {
  const lines: LogLine[] = [];
  return {
    lines,
    info: (details, message) => lines.push({ level: 'info', details, message }),
    warn: (details, message) => lines.push({ level: 'warn', details, message }),
    error: (details, message) => lines.push({ level: 'error', details, message }),
  };
}
