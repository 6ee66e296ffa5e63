/** sessiond's argon2id settings, which decide what row 3 (session create) can reach. */
export interface PasswordHashParams {
  algorithm: string;
  memoryCost: number;
  timeCost: number;
  parallelism: number;
}

function isParams(value: unknown): value is PasswordHashParams {
  const params = value as Partial<PasswordHashParams> | null;
  return (
    typeof params?.algorithm === 'string' &&
    typeof params.memoryCost === 'number' &&
    typeof params.timeCost === 'number' &&
    typeof params.parallelism === 'number'
  );
}

/**
 * `PASSWORD_HASH_PARAMS` from the built `sessiond` package, or null while the package does not
 * export it. TODO(sessiond): once `import { PASSWORD_HASH_PARAMS } from 'sessiond'` is always
 * there, import it statically; the dynamic import keeps the benchmark running (and printing
 * "unknown") on a server build that lacks it, where a static import would fail to link.
 */
export async function loadPasswordHashParams(): Promise<PasswordHashParams | null> {
  const specifier: string = 'sessiond';
  try {
    const sessiond = (await import(specifier)) as { PASSWORD_HASH_PARAMS?: unknown };
    return isParams(sessiond.PASSWORD_HASH_PARAMS) ? sessiond.PASSWORD_HASH_PARAMS : null;
  } catch {
    return null;
  }
}

export function describeHashParams(params: PasswordHashParams | null): string {
  if (params === null) return 'unknown';
  return `${params.algorithm} m=${params.memoryCost} KiB, t=${params.timeCost}, p=${params.parallelism}`;
}
