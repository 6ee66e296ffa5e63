import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config.js';
import { matchRedirectURI, parseClientRegistry } from '../../src/provider/client-registry.js';

const SHOP = {
  id: 'shop',
  type: 'public',
  redirect_uris: ['https://shop.example/callback', 'http://127.0.0.1/native', 'com.example.shop:/oauth'],
};

describe('client registry (SESSIOND_CLIENTS)', () => {
  it('keeps the comma-separated form: first-party public clients without redirect URIs', () => {
    const clients = parseClientRegistry('default, mobile');
    expect(clients.map((client) => [client.id, client.type, client.redirectURIs])).toEqual([
      ['default', 'public', []],
      ['mobile', 'public', []],
    ]);
    expect(loadConfig({}).clients).toEqual(['default']);
  });

  it('reads the JSON form with its defaults', () => {
    const [shop] = parseClientRegistry(JSON.stringify([SHOP]));
    expect(shop).toMatchObject({
      id: 'shop',
      name: 'shop',
      type: 'public',
      scopes: ['openid', 'profile', 'email', 'offline_access'],
      postLogoutRedirectURIs: [],
      backchannelLogoutURI: undefined,
    });
  });

  it('refuses what would make an open or unsafe redirect, naming the problem', () => {
    const refuse = (entry: Record<string, unknown>) => () => parseClientRegistry(JSON.stringify([entry]));
    expect(refuse({ id: 'a', redirect_uris: ['http://shop.example/cb'] })).toThrow(/loopback/);
    expect(refuse({ id: 'a', redirect_uris: ['http://localhost/cb'] })).toThrow(/loopback/);
    expect(refuse({ id: 'a', redirect_uris: ['https://shop.example/cb#x'] })).toThrow(/fragment/);
    expect(refuse({ id: 'a', redirect_uris: ['javascript:alert(1)'] })).toThrow(/scheme/);
    expect(refuse({ id: 'a', redirect_uris: ['/relative'] })).toThrow(/absolute/);
    expect(refuse({ id: 'a', type: 'confidential' })).toThrow(/secret_sha256/);
    expect(refuse({ id: 'a', secret_sha256: 'f'.repeat(64) })).toThrow(/public client has no secret/);
    expect(refuse({ id: 'a', scopes: ['admin'] })).toThrow(/scopes/);
    expect(() => parseClientRegistry('[{"id":"a"},{"id":"a"}]')).toThrow(/twice/);
    expect(() => parseClientRegistry('sessiond')).toThrow(/own client id/);
    expect(() => parseClientRegistry('[')).toThrow(/JSON/);
  });

  it('matches redirect URIs exactly, except a loopback port (RFC 8252 §7.3)', () => {
    const [shop] = parseClientRegistry(JSON.stringify([SHOP]));
    if (!shop) throw new Error('no client');
    expect(matchRedirectURI(shop, 'https://shop.example/callback')).toBe('https://shop.example/callback');
    expect(matchRedirectURI(shop, 'https://shop.example/callback/')).toBeUndefined();
    expect(matchRedirectURI(shop, 'https://shop.example/callback?x=1')).toBeUndefined();
    expect(matchRedirectURI(shop, 'https://SHOP.example/callback')).toBeUndefined();
    expect(matchRedirectURI(shop, 'http://127.0.0.1:51234/native')).toBe('http://127.0.0.1:51234/native');
    expect(matchRedirectURI(shop, 'http://127.0.0.1:51234/other')).toBeUndefined();
    expect(matchRedirectURI(shop, 'com.example.shop:/oauth')).toBe('com.example.shop:/oauth');
  });

  it('reads SESSIOND_CLIENTS_FILE, and refuses both forms at once', () => {
    const file = join(mkdtempSync(join(tmpdir(), 'clients-')), 'clients.json');
    writeFileSync(file, JSON.stringify([SHOP]));
    expect(loadConfig({ SESSIOND_CLIENTS_FILE: file }).clients).toEqual(['shop']);
    expect(() => loadConfig({ SESSIOND_CLIENTS_FILE: file, SESSIOND_CLIENTS: 'default' })).toThrow(
      ConfigError,
    );
    expect(() => loadConfig({ SESSIOND_CLIENTS_FILE: `${file}.missing` })).toThrow(/cannot read/);
  });
});
