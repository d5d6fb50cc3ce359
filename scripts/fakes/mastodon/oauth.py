"""App registration and OAuth 2.0 for the Mastodon fake.

References:
  https://docs.joinmastodon.org/methods/apps/        (POST /api/v1/apps, GET /api/v1/apps/verify_credentials)
  https://docs.joinmastodon.org/methods/oauth/       (/oauth/authorize, /oauth/token, /oauth/revoke)
  https://docs.joinmastodon.org/spec/oauth/          (flows, scope/redirect_uri gotchas)
  https://docs.joinmastodon.org/api/oauth-scopes/    (scope names and hierarchy)
  https://docs.joinmastodon.org/entities/Token/, .../entities/Application/

Loaded by server.py under the module name ``mfake_oauth``.
"""
import base64
import hashlib
import html
import re
import secrets
import urllib.parse

import mfake_common as C

OOB = "urn:ietf:wg:oauth:2.0:oob"
GRANULAR = ("accounts", "blocks", "bookmarks", "favourites", "filters", "follows", "lists", "mutes",
            "notifications", "search", "statuses")
WRITE_ONLY = ("conversations", "media", "reports")
FOLLOW_CHILDREN = {"read:blocks", "write:blocks", "read:follows", "write:follows", "read:mutes", "write:mutes"}
ADMIN = ("accounts", "reports", "domain_allows", "domain_blocks", "ip_blocks", "email_domain_blocks",
         "canonical_email_blocks")
KNOWN_SCOPES = ({"read", "write", "follow", "push", "profile", "admin:read", "admin:write"}
                | {"read:" + g for g in GRANULAR} | {"write:" + g for g in GRANULAR + WRITE_ONLY}
                | {"admin:read:" + a for a in ADMIN} | {"admin:write:" + a for a in ADMIN})
CODE_LIFETIME = 600  # Doorkeeper's default authorization_code_expires_in (10 minutes)
PKCE_RE = re.compile(r"^[A-Za-z0-9._~-]{43,128}$")


def scope_granted(token_scopes, needed):
    """Does a token holding ``token_scopes`` satisfy ``needed`` (one granular
    scope, e.g. read:blocks)?  `read`/`write` grant all their children,
    `follow` (deprecated) the blocks/follows/mutes ones; `profile` is granted
    only where the route lists it."""
    if needed is None:
        return True
    for need in needed.split("|"):
        if need in token_scopes:
            return True
        top = need.split(":")[0]
        if need.startswith(("read:", "write:")) and top in token_scopes:
            return True
        if need in FOLLOW_CHILDREN and "follow" in token_scopes:
            return True
        if need.startswith("admin:"):
            parts = need.split(":")
            if len(parts) == 3 and "admin:" + parts[1] in token_scopes:
                return True
    return False


def split_scopes(s):
    return [x for x in re.split(r"[\s+]+", s or "") if x]


def flat(values):
    """OAuth parameters are plain strings; nested Rails params are not."""
    out = {}
    for k, v in values.items():
        if isinstance(v, (str, int)) and not isinstance(v, bool):
            out[k] = str(v)
        elif isinstance(v, list) and v and all(isinstance(x, str) for x in v) and k == "redirect_uris":
            out[k] = v
        elif v is not None:
            out[k] = v
    return out


def valid_redirect(uri):
    if uri == OOB:
        return None
    u = urllib.parse.urlsplit(uri)
    if not u.scheme or not (u.netloc or u.scheme not in ("http", "https")):
        return "Redirect URI must be an absolute URI."
    if u.fragment or "#" in uri:
        return "Redirect URI cannot contain a fragment."
    return None


# ---- POST /api/v1/apps ---------------------------------------------------------
# https://docs.joinmastodon.org/methods/apps/#create

def app_json(w, app, credentials=False):
    out = {"id": app["id"], "name": app["name"], "website": app["website"], "scopes": app["scopes"],
           "redirect_uri": "\n".join(app["redirect_uris"]), "redirect_uris": app["redirect_uris"],
           "vapid_key": "BFake-vapid-key-of-the-mastodon-fake="}
    if credentials:
        out.update({"client_id": app["client_id"], "client_secret": app["client_secret"],
                    "client_secret_expires_at": 0})
    return out


def create_app(ctx):
    p = ctx.P({"client_name", "redirect_uris", "scopes", "website"})
    name = p.str("client_name")
    raw_uris = p.raw("redirect_uris")
    if isinstance(raw_uris, list):
        uris = p.list("redirect_uris")
    else:
        s = p.str("redirect_uris") or ""
        uris = [u for u in re.split(r"[\r\n]+", s) if u.strip() != ""] if s.strip() else []
        uris = [u.strip() for u in uris]
    errors = []
    if not name or not name.strip():
        errors.append("Name can't be blank")
    elif len(name) > 60:
        errors.append("Name is too long (maximum is 60 characters)")
    if not uris:
        errors.append("Redirect URI can't be blank")
    for u in uris:
        e = valid_redirect(u)
        if e:
            errors.append(e)
            break
    scopes = split_scopes(p.str("scopes", "read")) or ["read"]
    unknown = [s for s in scopes if s not in KNOWN_SCOPES]
    if unknown:
        errors.append("Scopes must be a valid scope (%s)" % " ".join(unknown))
    website = p.str("website") or None
    if website and len(website) > 2000:
        errors.append("Website is too long (maximum is 2000 characters)")
    if errors:
        raise C.invalid(", ".join(errors))
    w = ctx.w
    app = {"id": w.next_serial("apps"), "name": name.strip(), "website": website, "scopes": scopes,
           "redirect_uris": uris, "client_id": secrets.token_urlsafe(32), "client_secret": secrets.token_urlsafe(32)}
    w.t["apps"][app["id"]] = app
    return app_json(w, app, credentials=True)


# ---- GET /api/v1/apps/verify_credentials ----------------------------------------
# https://docs.joinmastodon.org/methods/apps/#verify_credentials (any valid token since 4.3.0)

def verify_app(ctx):
    ctx.P(set())
    app = ctx.w.t["apps"].get(ctx.token.get("app_id") or "")
    if app is None:  # a token seeded without an app
        return {"name": "fake seeded token", "website": None, "scopes": ctx.token["scopes"],
                "redirect_uri": OOB, "redirect_uris": [OOB]}
    out = app_json(ctx.w, app)
    del out["id"]
    return out


# ---- authorization codes ---------------------------------------------------------

def app_by_client(w, client_id):
    for a in w.t["apps"].values():
        if a["client_id"] == client_id:
            return a
    return None


def issue_code(ctx, q, user):
    """What GET /oauth/authorize does once the user approves; used by the
    /_fake/authorize hook and by --auto-authorize.  ``q``: flat strings."""
    w = ctx.w
    app = app_by_client(w, q.get("client_id") or "")
    if app is None:
        raise C.oauth_error(400, "invalid_client", C.OAUTH_DESCRIPTIONS["invalid_client"], violation=True)
    redirect = q.get("redirect_uri")
    if redirect is None and len(app["redirect_uris"]) == 1:
        redirect = app["redirect_uris"][0]
    if redirect not in app["redirect_uris"]:
        raise C.oauth_error(400, "invalid_redirect_uri", C.OAUTH_DESCRIPTIONS["invalid_redirect_uri"],
                            violation=True)
    if q.get("response_type", "code") != "code":
        raise C.oauth_error(400, "unsupported_response_type",
                            "The authorization server does not support this response type.", violation=True)
    scopes = split_scopes(q.get("scope", "read")) or ["read"]
    if any(s not in app["scopes"] for s in scopes):
        raise C.oauth_error(400, "invalid_scope", C.OAUTH_DESCRIPTIONS["invalid_scope"], violation=True)
    challenge = q.get("code_challenge")
    method = q.get("code_challenge_method")
    if challenge is not None or method is not None:
        if method != "S256":
            raise C.oauth_error(400, "invalid_request", "Mastodon supports only code_challenge_method=S256 "
                                "(plain, or a missing method, which means plain, is refused).", violation=True)
        if not challenge or not PKCE_RE.match(challenge):
            raise C.oauth_error(400, "invalid_request", "code_challenge must be the base64url SHA-256 of the "
                                "verifier (RFC 7636).", violation=True)
    acc = w.local_account(user or "")
    if acc is None:
        raise C.ApiError(400, "no local user %r" % user, body={"error": "unknown_user",
                                                              "error_description": "no local user %r" % user})
    code = secrets.token_urlsafe(32)
    w.t["codes"][code] = {"code": code, "app_id": app["id"], "account_id": acc["id"], "scopes": scopes,
                          "redirect_uri": redirect, "challenge": challenge, "expires": ctx.clock() + CODE_LIFETIME,
                          "used": False}
    target = None
    if redirect != OOB:
        sep = "&" if "?" in redirect else "?"
        extra = {"code": code}
        if q.get("state") is not None:
            extra["state"] = q["state"]
        target = redirect + sep + urllib.parse.urlencode(extra)
    return code, target


def fake_authorize(ctx, q, user):
    code, target = issue_code(ctx, q, user)
    return {"code": code, "redirect": target}


def oauth_authorize(ctx, q):
    """GET /oauth/authorize.  With --auto-authorize USER the fake approves at
    once for USER (302 to redirect_uri?code=..., or a page showing the code for
    the out-of-band URI); otherwise it shows a page pointing at the hook."""
    user = ctx.fake.auto_authorize
    if not user:
        body = ("<!doctype html><title>Mastodon fake</title><p>This fake has no login form. Start it with "
                "--auto-authorize USER, or get a code from /_fake/authorize.</p>").encode()
        return ctx.raw(200, body, "text/html; charset=utf-8")
    if "response_type" not in q or "client_id" not in q or "redirect_uri" not in q:
        ctx.violation("GET /oauth/authorize needs response_type, client_id and redirect_uri")
    code, target = issue_code(ctx, q, user)
    if target:
        return ctx.raw(302, b"", "text/html; charset=utf-8", {"Location": target})
    body = ("<!doctype html><title>Authorization code</title><p>Copy this code: <code>%s</code></p>"
            % html.escape(code)).encode()
    return ctx.raw(200, body, "text/html; charset=utf-8")


# ---- POST /oauth/token ----------------------------------------------------------------
# https://docs.joinmastodon.org/methods/oauth/#token

def client_auth(ctx, q):
    cid, secret = q.get("client_id"), q.get("client_secret")
    basic = ctx.headers.get("Authorization") or ""
    if basic[:6].lower() == "basic ":
        try:
            bid, _, bsec = base64.b64decode(basic[6:].strip()).decode().partition(":")
            cid, secret = urllib.parse.unquote(bid), urllib.parse.unquote(bsec)
        except Exception:
            return None
    app = app_by_client(ctx.w, cid or "")
    if app is None or not secret or not secrets.compare_digest(app["client_secret"], secret):
        return None
    return app


def issue_token(ctx, app, account_id, scopes):
    tok = secrets.token_urlsafe(32)
    now = ctx.clock()
    ctx.w.t["tokens"][tok] = {"token": tok, "app_id": app["id"], "account_id": account_id, "scopes": scopes,
                              "created_at": now, "revoked": False, "expired": False}
    return {"access_token": tok, "token_type": "Bearer", "scope": " ".join(scopes), "created_at": int(now)}


def token(ctx, q):
    desc = C.OAUTH_DESCRIPTIONS
    for k, v in q.items():
        if not isinstance(v, str):
            raise C.oauth_error(400, "invalid_request", "Parameter %s must be a string." % k, violation=True)
    allowed = {"grant_type", "code", "client_id", "client_secret", "redirect_uri", "scope", "code_verifier",
               "refresh_token", "username", "password"}
    for k in q:
        if k not in allowed:
            ctx.violation("unknown /oauth/token parameter %r" % k)
    gt = q.get("grant_type")
    if not gt:
        raise C.oauth_error(400, "invalid_request", desc["invalid_request"] + " Missing required parameter: "
                            "grant_type.", violation=True)
    if gt not in ("authorization_code", "client_credentials"):
        # Mastodon issues no refresh tokens (tokens do not expire); the password grant is not modelled.
        raise C.oauth_error(400, "unsupported_grant_type", desc["unsupported_grant_type"], violation=True)
    app = client_auth(ctx, q)
    if app is None:
        raise C.oauth_error(401, "invalid_client", desc["invalid_client"], violation=True)
    if gt == "client_credentials":
        scopes = split_scopes(q.get("scope", "read")) or ["read"]
        if any(s not in app["scopes"] for s in scopes):
            raise C.oauth_error(400, "invalid_scope", desc["invalid_scope"], violation=True)
        return issue_token(ctx, app, None, scopes)
    code = q.get("code")
    if not code:
        raise C.oauth_error(400, "invalid_request", desc["invalid_request"] + " Missing required parameter: code.",
                            violation=True)
    if not q.get("redirect_uri"):
        raise C.oauth_error(400, "invalid_request", desc["invalid_request"] + " Missing required parameter: "
                            "redirect_uri.", violation=True)
    g = ctx.w.t["codes"].get(code)
    if g is None or g["used"] or g["app_id"] != app["id"] or g["expires"] <= ctx.clock():
        raise C.oauth_error(400, "invalid_grant", desc["invalid_grant"], violation=True)
    if g["redirect_uri"] != q["redirect_uri"]:
        raise C.oauth_error(400, "invalid_grant", desc["invalid_grant"], violation=True)
    if g["challenge"] is not None or q.get("code_verifier") is not None:
        verifier = q.get("code_verifier") or ""
        digest = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).decode().rstrip("=")
        if g["challenge"] is None or not secrets.compare_digest(digest, g["challenge"]):
            raise C.oauth_error(400, "invalid_grant", desc["invalid_grant"], violation=True)
    if q.get("scope") is not None and sorted(split_scopes(q["scope"])) != sorted(g["scopes"]):
        ctx.violation("scope on the code exchange must equal the scope requested from the user "
                      "(Mastodon ignores it and grants the authorized scope)")
    g["used"] = True
    return issue_token(ctx, app, g["account_id"], g["scopes"])


# ---- POST /oauth/revoke ----------------------------------------------------------------
# https://docs.joinmastodon.org/methods/oauth/#revoke

def revoke(ctx, q):
    app = client_auth(ctx, q)
    tok = q.get("token")
    if app is None or not tok:
        raise C.oauth_error(403, "unauthorized_client", C.OAUTH_DESCRIPTIONS["unauthorized_client"], violation=True)
    t = ctx.w.t["tokens"].get(tok)
    if t is None:
        return {}
    if t["app_id"] != app["id"]:
        raise C.oauth_error(403, "unauthorized_client", C.OAUTH_DESCRIPTIONS["unauthorized_client"], violation=True)
    t["revoked"] = True
    return {}


# ---- /.well-known/oauth-authorization-server (RFC 8414; Mastodon 4.3+) -----------

def metadata(ctx):
    b = ctx.base
    return {"issuer": b + "/", "service_documentation": "https://docs.joinmastodon.org/",
            "authorization_endpoint": b + "/oauth/authorize", "token_endpoint": b + "/oauth/token",
            "revocation_endpoint": b + "/oauth/revoke", "app_registration_endpoint": b + "/api/v1/apps",
            "scopes_supported": sorted(KNOWN_SCOPES), "response_types_supported": ["code"],
            "response_modes_supported": ["query", "fragment", "form_post"],
            "code_challenge_methods_supported": ["S256"],
            "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
            "grant_types_supported": ["authorization_code", "client_credentials"]}
