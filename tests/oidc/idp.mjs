// A real OpenID provider (npm oidc-provider, pinned in package.json) on loopback for the identity tests.
// Prints one JSON line {"issuer","port"} once it listens, then serves until stdin closes or SIGTERM.
//
// Clients:  dispatch-console  public native client, authorization code + PKCE (S256 required), refresh tokens
//           dispatch-ci       confidential client, client_credentials (secret "ci-secret")
// Users:    alice / bob (any password) through oidc-provider's development login and consent pages.
// Access tokens are JWTs (RS256) for the audience "dispatch-console" with an `email` claim.
//
// Test hooks (not OpenID; the tests use them to make tokens the provider would never issue):
//   POST /__test/sign   {"alg":"RS256"|"ES256"|"HS256-public-key"|"none","kid"?,"claims":{...}} → {"token"}
//                       signed with the provider's own published keys (or as an attacker would for the last two)
//   POST /__test/rotate → {"kid"}  a new RSA signing key that is published and used from now on
// Usage: node idp.mjs [--port N] [--access-token-ttl SECONDS]
// SPDX-License-Identifier: GPL-3.0-or-later
import http from 'node:http';
import crypto from 'node:crypto';
import Provider from 'oidc-provider';

const args = process.argv.slice(2);
const option = (name, fallback) => {
  const i = args.indexOf(name);
  return i >= 0 && i + 1 < args.length ? args[i + 1] : fallback;
};
const port = Number(option('--port', '0'));
const accessTokenTtl = Number(option('--access-token-ttl', '600'));
const audience = 'dispatch-console';

const accounts = {
  alice: { email: 'alice@example.test', name: 'Alice Example' },
  bob: { email: 'bob@example.test', name: 'Bob Example' },
};

function newKey(type) {
  const pair = type === 'RSA'
    ? crypto.generateKeyPairSync('rsa', { modulusLength: 2048 })
    : crypto.generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const jwk = pair.privateKey.export({ format: 'jwk' });
  jwk.kid = crypto.randomBytes(8).toString('hex');
  jwk.alg = type === 'RSA' ? 'RS256' : 'ES256';
  jwk.use = 'sig';
  return { jwk, privateKey: pair.privateKey, publicPem: pair.publicKey.export({ type: 'spki', format: 'pem' }) };
}

let keys = [newKey('RSA'), newKey('EC')];
let provider;

function makeProvider(issuer) {
  const p = new Provider(issuer, {
    clients: [
      {
        client_id: audience,
        application_type: 'native',
        token_endpoint_auth_method: 'none',
        redirect_uris: ['http://127.0.0.1/callback'],
        grant_types: ['authorization_code', 'refresh_token'],
        response_types: ['code'],
      },
      {
        client_id: 'dispatch-ci',
        client_secret: 'ci-secret',
        grant_types: ['client_credentials'],
        redirect_uris: [],
        response_types: [],
      },
    ],
    jwks: { keys: keys.map((k) => k.jwk) },
    pkce: { required: () => true, methods: ['S256'] },
    claims: { openid: ['sub'], email: ['email', 'email_verified'], profile: ['name'] },
    scopes: ['openid', 'email', 'profile', 'offline_access'],
    features: {
      devInteractions: { enabled: true },
      clientCredentials: { enabled: true },
      resourceIndicators: {
        enabled: true,
        defaultResource: () => 'urn:dispatch:api',
        useGrantedResource: () => true,
        getResourceServerInfo: () => ({
          scope: 'dispatch',
          audience,
          accessTokenTTL: accessTokenTtl,
          accessTokenFormat: 'jwt',
          jwt: { sign: { alg: 'RS256' } },
        }),
      },
    },
    ttl: { AccessToken: accessTokenTtl, ClientCredentials: accessTokenTtl },
    issueRefreshToken: async (ctx, client) => client.grantTypeAllowed('refresh_token'),
    extraTokenClaims: async (ctx, token) => {
      if (token.kind === 'ClientCredentials') return { email: 'ci@example.test' };
      const account = accounts[token.accountId];
      return account ? { email: account.email } : undefined;
    },
    findAccount: async (ctx, id) => {
      if (!accounts[id]) return undefined;
      return {
        accountId: id,
        claims: async () => ({ sub: id, email: accounts[id].email, email_verified: true, name: accounts[id].name }),
      };
    },
  });
  p.on('server_error', (ctx, err) => process.stderr.write(`idp server_error: ${err.stack}\n`));
  return p;
}

const b64url = (buf) => Buffer.from(buf).toString('base64url');

function sign({ alg = 'RS256', kid, claims = {} }) {
  const now = Math.floor(Date.now() / 1000);
  const rsa = keys.find((k) => k.jwk.alg === 'RS256');
  const ec = keys.find((k) => k.jwk.alg === 'ES256');
  const body = { iat: now, exp: now + 300, ...claims };
  const encode = (header) => `${b64url(JSON.stringify(header))}.${b64url(JSON.stringify(body))}`;
  if (alg === 'none') return `${encode({ alg: 'none', typ: 'JWT' })}.`;
  if (alg === 'HS256-public-key') {
    // The classic confusion attack: the RSA public key (published) used as an HMAC secret.
    const input = encode({ alg: 'HS256', typ: 'JWT', kid: kid ?? rsa.jwk.kid });
    return `${input}.${b64url(crypto.createHmac('sha256', rsa.publicPem).update(input).digest())}`;
  }
  const key = alg === 'ES256' ? ec : rsa;
  const input = encode({ alg, typ: 'JWT', kid: kid ?? key.jwk.kid });
  const signature = alg === 'ES256'
    ? crypto.sign('sha256', Buffer.from(input), { key: key.privateKey, dsaEncoding: 'ieee-p1363' })
    : crypto.sign('sha256', Buffer.from(input), key.privateKey);
  return `${input}.${b64url(signature)}`;
}

function readBody(req) {
  return new Promise((resolve) => {
    let data = '';
    req.on('data', (c) => { data += c; });
    req.on('end', () => resolve(data));
  });
}

const server = http.createServer(async (req, res) => {
  if (req.url === '/__test/sign' && req.method === 'POST') {
    const input = JSON.parse((await readBody(req)) || '{}');
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ token: sign(input) }));
    return;
  }
  if (req.url === '/__test/rotate' && req.method === 'POST') {
    const fresh = newKey('RSA');
    keys = [fresh, ...keys];
    provider = makeProvider(provider.issuer);
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ kid: fresh.jwk.kid }));
    return;
  }
  provider.callback()(req, res);
});

server.listen(port, '127.0.0.1', () => {
  const actual = server.address().port;
  provider = makeProvider(`http://127.0.0.1:${actual}`);
  process.stdout.write(`${JSON.stringify({ issuer: provider.issuer, port: actual })}\n`);
});

process.stdin.on('end', () => process.exit(0));
process.stdin.resume();
process.on('SIGTERM', () => process.exit(0));
