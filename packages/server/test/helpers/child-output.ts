import type { ChildProcess } from 'node:child_process';

/**
 * Resolves with the first match of `pattern` in the child's stdout (from now on). Rejects if the
 * child cannot be spawned, exits first, or (with `timeoutMs`) takes longer; the error names
 * `what` and quotes everything the child printed meanwhile, stdout and stderr.
 */
export function waitForOutput(
  child: ChildProcess,
  pattern: RegExp,
  options: { timeoutMs?: number; what?: string } = {},
): Promise<RegExpExecArray> {
  const what = options.what ?? 'process';
  return new Promise((resolve, reject) => {
    let out = '';
    let err = '';
    const onOut = (chunk: Buffer): void => {
      out += chunk;
      const match = pattern.exec(out);
      if (match) settle(() => resolve(match));
    };
    const onErr = (chunk: Buffer): void => {
      err += chunk;
    };
    const onError = (error: Error): void => fail(`${what} could not start: ${error.message}`);
    const onExit = (code: number | null, signal: NodeJS.Signals | null): void =>
      fail(`${what} exited (code ${code}, signal ${signal}) before printing ${pattern}`);
    const timer =
      options.timeoutMs === undefined
        ? undefined
        : setTimeout(
            () => fail(`${what} did not print ${pattern} within ${options.timeoutMs} ms`),
            options.timeoutMs,
          );
    function settle(done: () => void): void {
      clearTimeout(timer);
      child.stdout?.off('data', onOut);
      child.stderr?.off('data', onErr);
      child.off('error', onError);
      child.off('exit', onExit);
      done();
    }
    function fail(message: string): void {
      settle(() => reject(new Error(`${message}\nstdout:\n${out}\nstderr:\n${err}`)));
    }
    child.stdout?.on('data', onOut);
    child.stderr?.on('data', onErr);
    child.once('error', onError);
    child.once('exit', onExit);
  });
}
