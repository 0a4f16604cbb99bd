"""The languages the package speaks (English, the source, and Simplified Chinese) and the one a request is
answered in. Saleor lets a plugin add no middleware, so each endpoint activates it around its own work with
`translation.override(request_language(request))`; the catalogue is saleor_livedist/locale (docs/translating.md)."""
from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace
from typing import Any
from urllib.parse import parse_qs

from django.conf import settings
from django.conf.locale import LANG_INFO
from django.http.cookie import parse_cookie
from django.utils.translation import get_language_from_request, gettext_lazy

LOCALE_DIR = Path(__file__).resolve().parent / "locale"
DEFAULT_LANGUAGE = "en"
# Codes as Django writes them (lower case); Saleor's settings.LANGUAGES holds both.
LANGUAGES: list[tuple[str, Any]] = [
    ("en", gettext_lazy("English")),
    ("zh-hans", gettext_lazy("Simplified Chinese")),
]
CODES = tuple(code for code, _name in LANGUAGES)


def package_language(code: str | None) -> str | None:
    """The package's language for a language code (`zh-CN`, `zh_Hans`, `zh-hans-sg`, `zh`: zh-hans; `en-GB`:
    en), or None when the package has no translation for it (`fr`, `zh-hant`)."""
    if not code:
        return None
    code = code.strip().lower().replace("_", "-")
    candidates = [code, *LANG_INFO.get(code, {}).get("fallback", [])]
    for candidate in candidates:
        for ours in CODES:
            if candidate == ours or candidate.startswith(ours + "-"):
                return ours
    # A bare generic code ("zh") is the package's first language of that family.
    return next((ours for ours in CODES if "-" not in code and ours.split("-")[0] == code), None)


def request_language(request: Any, requested: str | None = None) -> str:
    """The language to answer a request in: `requested` (the widget's `?lang=`) if the package speaks it, else
    Django's choice from the request (its language cookie, Accept-Language, then settings.LANGUAGE_CODE,
    among settings.LANGUAGES), narrowed to the package's languages; English when neither is one of them."""
    return (package_language(requested) or package_language(get_language_from_request(request))
            or DEFAULT_LANGUAGE)


def environ_language(environ: dict[str, Any]) -> str:
    """request_language for a bare WSGI environ (the lean viewer app builds no HttpRequest)."""
    raw_cookies = environ.get("HTTP_COOKIE", "")
    cookies = parse_cookie(raw_cookies) if settings.LANGUAGE_COOKIE_NAME in raw_cookies else {}
    query = environ.get("QUERY_STRING")
    requested = parse_qs(query).get("lang", [None])[-1] if query else None
    return request_language(SimpleNamespace(COOKIES=cookies, META=environ), requested)
