import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../src/config.js';
import { sha256 } from '../src/lib/crypto.js';

const SECRET = 'a-backend-secret-of-32-characters';

describe('SESSIOND_BACKENDS and SESSIOND_CUSTOM_CLAIMS', () => {
  it('keeps backends as id, SHA-256 of the secret and acr ceiling; claims as an allow-list', () => {
    const config = loadConfig({
      SESSIOND_BACKENDS: `web:${SECRET},jobs:${SECRET}:x`,
      SESSIOND_BACKENDS_AAL2: 'web',
      SESSIOND_CUSTOM_CLAIMS: 'roles, tenant,plan,roles',
    });
    expect(config.backends).toEqual([
      { id: 'web', secretHash: sha256(SECRET), maxAcr: 'aal2' },
      { id: 'jobs', secretHash: sha256(`${SECRET}:x`), maxAcr: 'aal1' },
    ]);
    expect(JSON.stringify(config)).not.toContain(SECRET);
    expect(config.customClaims).toEqual({ names: ['roles', 'tenant', 'plan'], maxBytes: 1024 });
  });

  it.each([
    [{ SESSIOND_BACKENDS: 'web' }, /SESSIOND_BACKENDS: expected id:secret pairs/],
    [{ SESSIOND_BACKENDS: 'web:short' }, /the secret of "web" must be at least 32 characters/],
    [{ SESSIOND_BACKENDS: `we b:${SECRET}` }, /"we b" is not an id/],
    [{ SESSIOND_BACKENDS: `web:${SECRET},web:${SECRET}` }, /"web" is named twice/],
    [{ SESSIOND_BACKENDS: `web:${SECRET}`, SESSIOND_BACKENDS_AAL2: 'jobs' }, /"jobs" is not a backend/],
    [{ SESSIOND_CUSTOM_CLAIMS: 'roles,sub' }, /"sub" is a reserved claim name/],
    [{ SESSIOND_CUSTOM_CLAIMS: 'email' }, /"email" is a reserved claim name/],
    [{ SESSIOND_CUSTOM_CLAIMS: 'acr' }, /"acr" is a reserved claim name/],
    [{ SESSIOND_CUSTOM_CLAIMS: '1st' }, /"1st" is not a claim name/],
    [{ SESSIOND_CUSTOM_CLAIMS_MAX_BYTES: '10' }, /SESSIOND_CUSTOM_CLAIMS_MAX_BYTES/],
  ])('refuses %o', (env, message) => {
    expect(() => loadConfig(env)).toThrow(ConfigError);
    expect(() => loadConfig(env)).toThrow(message);
  });
});
