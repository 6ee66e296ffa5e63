// Every child process and temp dir the benchmark creates is registered here, so it is
// released on success, on error, on Ctrl-C, and (synchronously, as a last resort) at exit.

export interface Resource {
  /** Orderly release: stop a server gracefully, remove a directory. */
  close(): Promise<void>;
  /** Last-resort synchronous release for process exit (SIGKILL, rmSync). */
  closeNow(): void;
}

const open = new Set<Resource>();

export function track(resource: Resource): () => void {
  open.add(resource);
  return () => open.delete(resource);
}

/** Releases everything still open, newest first; one failure does not stop the others. */
export async function closeAll(): Promise<void> {
  for (const resource of [...open].reverse()) {
    open.delete(resource);
    try {
      await resource.close();
    } catch (error) {
      process.stderr.write(`cleanup failed: ${String(error)}\n`);
      resource.closeNow();
    }
  }
}

export function installExitHandlers(): void {
  process.once('exit', () => {
    for (const resource of open) resource.closeNow();
  });
  for (const [signal, code] of [
    ['SIGINT', 130],
    ['SIGTERM', 143],
  ] as const) {
    process.once(signal, () => {
      process.stderr.write(`\n${signal}: stopping servers\n`);
      void closeAll().finally(() => process.exit(code));
    });
  }
}
