// Plays the user's browser against the test provider (tests/oidc/provider.mjs): signs in on its
// login form and follows the redirects back to the app. Shared by the desktop E2E suite and
// the API load benchmark.
//
//   node tests/oidc/signin.mjs token <issuer> <user>   # prints an access token (code + PKCE)
import crypto from "node:crypto";
import { pathToFileURL } from "node:url";

/** Follows the sign-in as `user` until the provider redirects to the app's `/callback`;
 * returns that callback URL (not fetched). */
export async function followSignIn(authorizeUrl, user) {
  const jar = new Map();
  const cookie = () => [...jar].map(([k, v]) => `${k}=${v}`).join("; ");
  const keep = (res) => {
    for (const c of res.headers.getSetCookie()) {
      const kv = c.split(";")[0];
      const i = kv.indexOf("=");
      jar.set(kv.slice(0, i), kv.slice(i + 1));
    }
  };
  let url = new URL(authorizeUrl);
  for (let i = 0; i < 20; i++) {
    if (url.pathname === "/callback") return url.toString();
    let r = await fetch(url, { redirect: "manual", headers: { cookie: cookie() } });
    keep(r);
    if (r.status >= 300 && r.status < 400) { url = new URL(r.headers.get("location"), url); continue; }
    const page = await r.text();
    const form = page.includes('name="prompt" value="consent"') ? { prompt: "consent" } : { prompt: "login", login: user, password: "any" };
    r = await fetch(url, { method: "POST", redirect: "manual", headers: { cookie: cookie(), "content-type": "application/x-www-form-urlencoded" }, body: new URLSearchParams(form) });
    keep(r);
    if (!(r.status >= 300 && r.status < 400)) throw new Error(`the provider refused the form: ${r.status}`);
    url = new URL(r.headers.get("location"), url);
  }
  throw new Error("the sign-in did not come back to the app within 20 redirects");
}

/** Signs in as `user` and lets the app's loopback listener receive the answer. */
export async function scriptedSignIn(authorizeUrl, user) {
  const callback = await followSignIn(authorizeUrl, user);
  const r = await fetch(callback);
  if (!r.ok) throw new Error(`the app's callback answered ${r.status}`);
}

const b64url = (buf) => Buffer.from(buf).toString("base64url");

/** A whole authorization code + PKCE flow as the public client; returns the token response. */
export async function tokens(issuer, user, { clientId = "provider-admin", scope = "openid offline_access profile portal" } = {}) {
  const discovery = await (await fetch(`${issuer}/.well-known/openid-configuration`)).json();
  const verifier = b64url(crypto.randomBytes(32));
  const challenge = b64url(crypto.createHash("sha256").update(verifier).digest());
  const redirect = "http://127.0.0.1:9/callback";
  const auth = new URL(discovery.authorization_endpoint);
  for (const [k, v] of Object.entries({
    response_type: "code", client_id: clientId, redirect_uri: redirect, scope,
    state: b64url(crypto.randomBytes(16)), nonce: b64url(crypto.randomBytes(16)),
    code_challenge: challenge, code_challenge_method: "S256",
  })) auth.searchParams.set(k, v);
  const code = new URL(await followSignIn(auth, user)).searchParams.get("code");
  const r = await fetch(discovery.token_endpoint, {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams({ grant_type: "authorization_code", code, redirect_uri: redirect, client_id: clientId, code_verifier: verifier }),
  });
  if (!r.ok) throw new Error(`token endpoint: ${r.status} ${await r.text()}`);
  return r.json();
}

if (import.meta.url === pathToFileURL(process.argv[1]).href && process.argv[2] === "token") {
  const t = await tokens(process.argv[3], process.argv[4] || "alice");
  process.stdout.write(`${t.access_token}\n`);
}
