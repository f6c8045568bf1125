// A real, standards-compliant OpenID Provider (panva/oidc-provider, OpenID Certified) on a
// loopback port, for the sign-in tests and for trying the portal profile by hand.
//
//   node tests/oidc/provider.mjs            # prints {"issuer": "http://127.0.0.1:<port>"} once ready
//
// Environment: OIDC_PORT (default: any free port), OIDC_ACCESS_TTL (seconds, default 300),
// OIDC_AUDIENCE (default portal-api). Users (any password; the development login form):
//   alice  – provider      dev – developer      sam – support      tenant – client of org OIDC_TENANT_ORG
// One public native client, `provider-admin` (PKCE required, loopback redirect on any port,
// RFC 8252), gets JWT access tokens for the portal API with the role in `portal_role`.
import http from 'node:http';
import crypto from 'node:crypto';
import Provider from 'oidc-provider';

const AUDIENCE = process.env.OIDC_AUDIENCE || 'portal-api';
const RESOURCE = 'urn:provider-admin:portal-api';
const ACCESS_TTL = Number(process.env.OIDC_ACCESS_TTL || 300);
const TENANT_ORG = process.env.OIDC_TENANT_ORG || '00000000-0000-4000-8000-000000000001';

const USERS = {
  alice: { name: 'Alice Admin', email: 'alice@example.com', roles: ['provider'] },
  dev: { name: 'Dev Eloper', email: 'dev@example.com', roles: ['developer'] },
  sam: { name: 'Sam Support', email: 'sam@example.com', roles: ['support'] },
  tenant: { name: 'Tina Tenant', email: 'tina@example.com', roles: ['client'], org: TENANT_ORG },
};

function signingKey(type, options, alg) {
  const { privateKey } = crypto.generateKeyPairSync(type, options);
  const jwk = privateKey.export({ format: 'jwk' });
  return { ...jwk, alg, use: 'sig', kid: `${alg.toLowerCase()}-${crypto.randomUUID()}` };
}

const server = http.createServer();
await new Promise((resolve) => server.listen(Number(process.env.OIDC_PORT || 0), '127.0.0.1', resolve));
const issuer = `http://127.0.0.1:${server.address().port}`;

const provider = new Provider(issuer, {
  clients: [{
    client_id: 'provider-admin',
    application_type: 'native',
    token_endpoint_auth_method: 'none',
    grant_types: ['authorization_code', 'refresh_token'],
    response_types: ['code'],
    redirect_uris: ['http://127.0.0.1/callback'],
  }],
  jwks: {
    keys: [
      signingKey('rsa', { modulusLength: 2048 }, 'RS256'),
      signingKey('ec', { namedCurve: 'P-256' }, 'ES256'),
    ],
  },
  cookies: { keys: [crypto.randomBytes(32).toString('hex')] },
  async findAccount(ctx, sub) {
    const user = USERS[sub];
    if (!user) return undefined;
    return {
      accountId: sub,
      async claims() {
        return { sub, name: user.name, email: user.email };
      },
    };
  },
  claims: { openid: ['sub'], profile: ['name'], email: ['email'] },
  scopes: ['openid', 'offline_access', 'profile', 'email'],
  pkce: { required: () => true },
  ttl: { AccessToken: ACCESS_TTL, IdToken: 3600, RefreshToken: 86400, Grant: 86400, Session: 86400, Interaction: 600, AuthorizationCode: 60 },
  features: {
    devInteractions: { enabled: true },
    revocation: { enabled: true },
    resourceIndicators: {
      enabled: true,
      defaultResource: () => RESOURCE,
      useGrantedResource: () => true,
      getResourceServerInfo: () => ({
        scope: 'portal',
        audience: AUDIENCE,
        accessTokenTTL: ACCESS_TTL,
        accessTokenFormat: 'jwt',
        jwt: { sign: { alg: 'RS256' } },
      }),
    },
  },
  async extraTokenClaims(ctx, token) {
    const user = USERS[token.accountId];
    if (!user || token.kind !== 'AccessToken') return undefined;
    return { portal_role: user.roles, name: user.name, ...(user.org ? { org_id: user.org } : {}) };
  },
  async issueRefreshToken(ctx, client) {
    return client.grantTypeAllowed('refresh_token');
  },
  // Consent is implied for the one first-party client: grant what it asks.
  async loadExistingGrant(ctx) {
    const grantId = ctx.oidc.result?.consent?.grantId || ctx.oidc.session.grantIdFor(ctx.oidc.client.clientId);
    if (grantId) {
      const existing = await ctx.oidc.provider.Grant.find(grantId);
      if (existing) return existing;
    }
    const grant = new ctx.oidc.provider.Grant({ clientId: ctx.oidc.client.clientId, accountId: ctx.oidc.session.accountId });
    grant.addOIDCScope('openid offline_access profile email');
    grant.addResourceScope(RESOURCE, 'portal');
    await grant.save();
    return grant;
  },
});
provider.on('server_error', (ctx, err) => console.error('oidc-provider error:', err));

server.on('request', provider.callback());
process.stdout.write(`${JSON.stringify({ issuer, audience: AUDIENCE, client_id: 'provider-admin' })}\n`);
for (const signal of ['SIGTERM', 'SIGINT']) process.on(signal, () => server.close(() => process.exit(0)));
