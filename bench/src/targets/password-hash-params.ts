import { PASSWORD_HASH_PARAMS } from 'sessiond';

/** sessiond's argon2id settings, which decide what row 3 (session create) can reach. */
export interface PasswordHashParams {
  algorithm: string;
  memoryCost: number;
  timeCost: number;
  parallelism: number;
}

/**
 * The parameters the built server hashes with. Read from the `sessiond` package itself (the
 * same build the benchmark starts), so the report cannot drift from the code.
 */
export function passwordHashParams(): PasswordHashParams {
  return { ...PASSWORD_HASH_PARAMS };
}

export function describeHashParams(params: PasswordHashParams): string {
  return `${params.algorithm} m=${params.memoryCost} KiB, t=${params.timeCost}, p=${params.parallelism}`;
}
