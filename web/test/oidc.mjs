// A real OpenID provider for the browser tests (npm oidc-provider) on a loopback port:
// authorization code + PKCE for the console as a public client, access tokens as RS256 JWTs
// for the audience "caseledger" (RFC 9068 via resource indicators), its own dev login
// pages (any login, any password: the login becomes the token's `sub`). `serve
// --jwt-jwks-uri` reads its public keys from its jwks_uri (`${issuer}/jwks`).
import Provider from 'oidc-provider';
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import http from 'node:http';

// Listens first (serve needs the issuer URL and reads the keys when it starts), then
// configure(redirectUri) once serve's port is known; until then only /jwks answers (the
// same set the provider publishes there once configured).
export async function startProvider({ audience = 'caseledger', clientId = 'caseledger-console' }) {
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const jwk = { ...privateKey.export({ format: 'jwk' }), kid: 'test-1', alg: 'RS256', use: 'sig' };
  const { d, p, q, dp, dq, qi, ...publicJwk } = jwk;
  let handler = null;
  const server = http.createServer((req, res) => {
    if (handler) return handler(req, res);
    if (req.url === '/jwks') {
      res.setHeader('Content-Type', 'application/jwk-set+json');
      return res.end(JSON.stringify({ keys: [publicJwk] }));
    }
    res.statusCode = 503;
    return res.end();
  });
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
  handler = provider.callback();
  };
  return { issuer, jwksUri: `${issuer}/jwks`, clientId, configure, close: () => new Promise((r) => { server.closeAllConnections(); server.close(r); }) };
}
