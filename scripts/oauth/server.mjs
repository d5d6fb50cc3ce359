// The OAuth 2.0 authorization server of ferry's token tests: oidc-provider (a certified
// OpenID Provider) on http://127.0.0.1:PORT, started by scripts/servers.sh.
//
//   Clients ferry-a ... ferry-d (secret `ferry-test-client-secret`, client_secret_basic):
//   the authorization_code grant with PKCE, and refresh_token, whose refresh tokens are
//   rotated on every use (a reused one revokes its grant). Access tokens live 600 s,
//   except the first ones of ferry-a and ferry-c (from the authorization code) and all
//   of ferry-d's: 4 s, so that a test sees them expire. Revoking any token of a grant
//   revokes all of them.
//   Clients ferry-web, ferry-cli, ferry-device: the same, for `ferry serve` and `ferry connect`, whose callback is
//   http://127.0.0.1:PORT/oauth/callback (any port: a native client); its access tokens
//   live 600 s. Revocations are counted too (`revocation`).
//   Client `resource-server` (secret `resource-server-secret`) only introspects tokens
//   (RFC 7662), as the tests' resource server does for every request it gets.
//
//   Logging in and consenting are this script's own interaction: it signs in the test
//   user and grants what the client asked, at once, with no page (a person clicking
//   "allow"). Tests drive the authorization-code flow with plain HTTP requests.
//
//   GET /test/counts answers how many token requests each client made, per grant type,
//   and how many of them were refused: {"ferry-a": {"refresh_token": 1, ...}}.
import http from 'node:http';
import Provider from 'oidc-provider';

const port = Number(process.env.PORT);
if (!port) {
  console.error('server.mjs: set PORT');
  process.exit(2);
}
const issuer = `http://127.0.0.1:${port}`;

const clients = ['ferry-a', 'ferry-b', 'ferry-c', 'ferry-d'].map((client_id) => ({
  client_id,
  client_secret: 'ferry-test-client-secret',
  application_type: 'native',
  grant_types: ['authorization_code', 'refresh_token'],
  response_types: ['code'],
  redirect_uris: ['http://127.0.0.1/callback'],
  token_endpoint_auth_method: 'client_secret_basic',
}));
// ferry serve's own (ferry-web) and ferry connect's (ferry-cli, ferry-device; one client
// per test, so that tests running at once do not count each other's requests): the
// callback on any loopback port (native clients, RFC 8252)
for (const client_id of ['ferry-web', 'ferry-cli', 'ferry-device']) {
  clients.push({
    client_id,
    client_secret: 'ferry-test-client-secret',
    application_type: 'native',
    grant_types: ['authorization_code', 'refresh_token', 'urn:ietf:params:oauth:grant-type:device_code'],
    response_types: ['code'],
    redirect_uris: ['http://127.0.0.1/oauth/callback'],
    token_endpoint_auth_method: 'client_secret_basic',
  });
}
clients.push({
  client_id: 'resource-server',
  client_secret: 'resource-server-secret',
  grant_types: [],
  response_types: [],
  redirect_uris: [],
});

const provider = new Provider(issuer, {
  clients,
  scopes: ['openid', 'offline_access'],
  features: {
    devInteractions: { enabled: false },
    introspection: { enabled: true },
    revocation: { enabled: true },
    deviceFlow: { enabled: true },
  },
  pkce: { required: () => true },
  rotateRefreshToken: () => true,
  ttl: {
    AccessToken: (ctx, _token, client) => {
      const first = ctx?.oidc?.params?.grant_type === 'authorization_code';
      if (client?.clientId === 'ferry-d' || (first && ['ferry-a', 'ferry-c'].includes(client?.clientId))) return 4;
      return 600;
    },
    AuthorizationCode: 60,
    RefreshToken: 86400,
    Grant: 86400,
    Session: 3600,
    Interaction: 600,
  },
  findAccount: async (_ctx, id) => ({ accountId: id, claims: async () => ({ sub: id }) }),
  interactions: { url: (_ctx, interaction) => `/interaction/${interaction.uid}` },
  cookies: { keys: ['ferry-test-cookie-key-not-secret'] },
});

const counts = {};
const count = (ctx, what) => {
  const client = ctx.oidc?.client?.clientId ?? 'unknown';
  const grant = ctx.oidc?.params?.grant_type ?? 'unknown';
  counts[client] ??= {};
  const key = what ? `${grant}_${what}` : grant;
  counts[client][key] = (counts[client][key] ?? 0) + 1;
};
provider.on('grant.success', (ctx) => count(ctx));
provider.on('grant.error', (ctx) => count(ctx, 'refused'));
provider.on('grant.revoked', (ctx) => {
  const client = ctx.oidc?.client?.clientId ?? 'unknown';
  counts[client] ??= {};
  counts[client].revocation = (counts[client].revocation ?? 0) + 1;
});

// signs the test user in and grants what was asked, at once
async function interact(req, res) {
  const details = await provider.interactionDetails(req, res);
  const { prompt, params, session } = details;
  if (prompt.name === 'login') {
    return provider.interactionFinished(req, res, { login: { accountId: 'ferry-test-user' } }, { mergeWithLastSubmission: false });
  }
  const grant = details.grantId
    ? await provider.Grant.find(details.grantId)
    : new provider.Grant({ accountId: session.accountId, clientId: params.client_id });
  const missing = prompt.details ?? {};
  if (missing.missingOIDCScope) grant.addOIDCScope(missing.missingOIDCScope.join(' '));
  if (missing.missingOIDCClaims) grant.addOIDCClaims(missing.missingOIDCClaims);
  for (const [indicator, scopes] of Object.entries(missing.missingResourceScopes ?? {})) {
    grant.addResourceScope(indicator, scopes.join(' '));
  }
  const grantId = await grant.save();
  return provider.interactionFinished(req, res, { consent: { grantId } }, { mergeWithLastSubmission: true });
}

const callback = provider.callback();
const server = http.createServer(async (req, res) => {
  try {
    if (req.method === 'GET' && req.url === '/test/counts') {
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify(counts));
    } else if (req.url.startsWith('/interaction/')) {
      await interact(req, res);
    } else {
      callback(req, res);
    }
  } catch (e) {
    console.error(e);
    res.statusCode = 500;
    res.end(String(e));
  }
});
server.listen(port, '127.0.0.1', () => console.log(`oidc-provider on ${issuer}`));
