"""The console's own protection of its forms against cross-site requests. Inside Saleor the pages are served
by the plugin's endpoint (no CSRF middleware, no session cookie) and shown in the Dashboard's iframe, where
third-party cookies may be blocked; so every form carries a token signed with the project's key and tied to
the staff member and their console session, checked on every POST, in the sandbox as inside Saleor."""
from __future__ import annotations

import hmac

from django.core import signing
from django.http import HttpRequest

from .access import Staff

SALT = "saleor_livedist.console.csrf"
MAX_AGE_SECONDS = 12 * 3600  # a working day; a page left open longer is reloaded
FIELD = "csrf"


def console_session(request: HttpRequest) -> str:
    """What ties a token to one sign-in: the session an authenticator recorded on the request
    (`livedist_console_session`, e.g. the token's id), else the Django session's key, else nothing."""
    recorded = getattr(request, "livedist_console_session", None)
    if recorded:
        return str(recorded)
    session = getattr(request, "session", None)
    return str(getattr(session, "session_key", "") or "")


def token_for(request: HttpRequest, staff: Staff) -> str:
    return signing.dumps([staff.id, console_session(request)], salt=SALT, compress=True)


def is_valid(request: HttpRequest, staff: Staff) -> bool:
    """Whether the POST carries a token made for this staff member and session, at most MAX_AGE_SECONDS ago."""
    token = request.POST.get(FIELD, "")
    try:
        who, session = signing.loads(token, salt=SALT, max_age=MAX_AGE_SECONDS)
    except (signing.BadSignature, ValueError, TypeError):
        return False
    return hmac.compare_digest(str(who), staff.id) and hmac.compare_digest(str(session), console_session(request))
