// A real OpenID provider for the browser tests (npm oidc-provider) on a loopback port:
// authorization code + PKCE for the console as a public client, access tokens as RS256 JWTs
// for the audience "caseledger" (RFC 9068 via resource indicators), its own dev login
// pages (any login, any password: the login becomes the token's `sub`). Its public keys
// are written as a JWK Set file for `serve --jwt-jwks`.
import Provider from 'oidc-provider';
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import http from 'node:http';

// Listens first (serve needs the issuer URL and the key file before it starts), then
// configure(redirectUri) once serve's port is known.
export async function startProvider({ jwksPath, audience = 'caseledger', clientId = 'caseledger-console' }) {
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const jwk = { ...privateKey.export({ format: 'jwk' }), kid: 'test-1', alg: 'RS256', use: 'sig' };
  const { d, p, q, dp, dq, qi, ...publicJwk } = jwk;
  writeFileSync(jwksPath, JSON.stringify({ keys: [publicJwk] }));

  const server = http.createServer();
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  const issuer = `http://127.0.0.1:${server.address().port}`;
  const resource = 'urn:caseledger:api';
  const configure = (redirectUri) => {
  const provider = new Provider(issuer, {
    clients: [{ client_id: clientId, token_endpoint_auth_method: 'none', redirect_uris: [redirectUri],
      grant_types: ['authorization_code'], response_types: ['code'] }],
    jwks: { keys: [jwk] },
    cookies: { keys: [randomBytes(32).toString('hex')] },
    findAccount: (ctx, id) => ({ accountId: id, claims: () => ({ sub: id }) }),
    clientBasedCORS: (ctx, origin, client) => client.redirectUris.some((u) => new URL(u).origin === origin),
    features: {
      devInteractions: { enabled: true },
      resourceIndicators: {
        enabled: true,
        defaultResource: () => resource,
        useGrantedResource: () => true,
        getResourceServerInfo: () => ({ scope: 'openid', audience, accessTokenFormat: 'jwt', accessTokenTTL: 3600, jwt: { sign: { alg: 'RS256' } } }),
      },
    },
  });
  server.on('request', provider.callback());
  };
  return { issuer, clientId, configure, close: () => new Promise((r) => { server.closeAllConnections(); server.close(r); }) };
}
