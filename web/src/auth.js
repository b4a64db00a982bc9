// Who the user is. With an identity provider in serve's config (/console/config.json), an
// OpenID Connect authorization code flow with PKCE (oauth4webapi), the console being a
// public client; without one, a pasted development token. The access token lives in
// sessionStorage only (gone with the tab; never in a URL or a cookie); the PKCE verifier
// and state sit there only between the redirect and its return.
import * as oauth from './vendor/oauth4webapi.js';
import { get, setTokenSource } from './api.js';

const TOKEN = 'caseledger.token';
const PENDING = 'caseledger.oidc';

let config = { oidc: null };
let me = null;

setTokenSource(() => sessionStorage.getItem(TOKEN));

function loopback(url) {
  const { protocol, hostname } = new URL(url);
  return protocol === 'http:' && (hostname === '127.0.0.1' || hostname === 'localhost' || hostname === '[::1]');
}
// Plain HTTP only to a provider on this machine (development and the browser tests).
const insecure = (issuer) => (loopback(issuer) ? { [oauth.allowInsecureRequests]: true } : {});
const redirectUri = () => `${location.origin}/`;

async function discover() {
  const issuer = new URL(config.oidc.issuer);
  const res = await oauth.discoveryRequest(issuer, insecure(config.oidc.issuer));
  return oauth.processDiscoveryResponse(issuer, res);
}

export async function loadConfig() {
  const res = await fetch('/console/config.json');
  config = await res.json();
  return config;
}
export const oidcConfigured = () => Boolean(config.oidc);

export async function signInWithProvider() {
  const as = await discover();
  const verifier = oauth.generateRandomCodeVerifier();
  const state = oauth.generateRandomState();
  const nonce = oauth.generateRandomNonce();
  sessionStorage.setItem(PENDING, JSON.stringify({ verifier, state, nonce, back: location.hash }));
  const url = new URL(as.authorization_endpoint);
  url.search = new URLSearchParams({
    client_id: config.oidc.client_id, redirect_uri: redirectUri(), response_type: 'code', scope: 'openid',
    code_challenge: await oauth.calculatePKCECodeChallenge(verifier), code_challenge_method: 'S256', state, nonce,
  });
  location.assign(url.href);
}

// On the provider's redirect back (?code=...&state=...): exchanges the code, keeps the
// access token, and takes the code out of the address bar. False when this is no callback.
export async function completeSignIn() {
  const here = new URL(location.href);
  if (!config.oidc || (!here.searchParams.has('code') && !here.searchParams.has('error'))) return false;
  const pending = JSON.parse(sessionStorage.getItem(PENDING) || 'null');
  sessionStorage.removeItem(PENDING);
  history.replaceState(null, '', `/${pending?.back || ''}`);
  if (!pending) throw new Error('sign-in answer without a pending sign-in');
  const as = await discover();
  const client = { client_id: config.oidc.client_id };
  const params = oauth.validateAuthResponse(as, client, here, pending.state);
  const res = await oauth.authorizationCodeGrantRequest(as, client, oauth.None(), params, redirectUri(), pending.verifier,
    insecure(config.oidc.issuer));
  const tokens = await oauth.processAuthorizationCodeResponse(as, client, res, { expectedNonce: pending.nonce });
  sessionStorage.setItem(TOKEN, tokens.access_token);
  return true;
}

export function useToken(token) { sessionStorage.setItem(TOKEN, token.trim()); me = null; }
export function signOut() { sessionStorage.removeItem(TOKEN); me = null; }
export const signedIn = () => Boolean(sessionStorage.getItem(TOKEN));

// /v1/me, cached until sign-out: {subject, grants: [{role, scope}]}.
export async function whoAmI() {
  if (!signedIn()) return null;
  if (!me) {
    try { me = (await get('/v1/me')).body; } catch (e) { if (e.status === 401) { signOut(); return null; } throw e; }
  }
  return me;
}
export const scopes = (user, role) => (user?.grants || []).filter((g) => g.role === role).map((g) => g.scope);
export const holds = (user, ...roles) => (user?.grants || []).some((g) => roles.includes(g.role));
