/** Progress goes to stderr so stdout carries only the final table. */
export function log(message: string): void {
  process.stderr.write(`${message}\n`);
}

export function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
