// The one place a child process that talks to the benchmark's sessiond reads where it is and
// which resource-server credentials to use (the harness writes them in targets/issuer.ts).

export interface IssuerEnv {
  issuer: string;
  audience: string;
  clientId: string;
  clientSecret: string;
}

function required(name: string): string {
  const value = process.env[name];
  if (value === undefined || value === '') throw new Error(`${name} is required`);
  return value;
}

export function readIssuerEnv(): IssuerEnv {
  return {
    issuer: required('ISSUER'),
    audience: required('AUDIENCE'),
    clientId: required('CLIENT_ID'),
    clientSecret: required('CLIENT_SECRET'),
  };
}
