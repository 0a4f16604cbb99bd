"""One accessor for the package's settings, with documented defaults.

Inside Django (Saleor or the sandbox) settings come from `settings.LIVEDIST = {...}`; outside it, from
environment variables `LIVEDIST_<NAME>`. Unknown names are an error that lists the known ones.

| name            | default                         | meaning                                             |
|-----------------|---------------------------------|-----------------------------------------------------|
| ENGINE          | "durable" where it imports, else "python" | rule backend                              |
| RULES_DIR       | the bundled default rules       | directory of the merchant's rule files              |
| RELOAD_INTERVAL | 1.0                             | seconds between checks of the rules directory       |
| STOREFRONT_URL  | http://localhost:3000/{kind}/{target}?livedist_ref={token} | where a share link's click lands |
| LINK_MAX_AGE_DAYS | 365                           | how long a share link stays valid                   |
| REMINDER_WEBHOOK_URL | ""                         | also send live reminders to this gateway (signed)   |
| REMINDER_WEBHOOK_SECRET | ""                      | the key reminders to the gateway are signed with    |
| REMINDER_NOTIFIERS | e-mail, then the webhook     | dotted paths of the reminder notifiers to try       |
| REMINDER_OFFSETS | [30, 5]                        | also remind this many minutes before a live starts  |
| GRAPHQL_MAX_BODY_BYTES | 100000                   | a GraphQL request body over this is refused (413)   |
| GRAPHQL_MAX_DEPTH | 15                            | nesting levels of a query (the standard introspection query needs 13) |
| GRAPHQL_MAX_ALIASES | 30                          | aliased fields in one request                       |
| GRAPHQL_MAX_FIELDS | 500                          | field selections written in one request             |
| GRAPHQL_MAX_COST | 5000                           | estimated cost: a list counts as its page size times its selections |
| GRAPHQL_MAX_PAGE | 200                            | the largest `first`/`last` a list field accepts     |
| VIEWER_ALLOWED_ORIGINS | []                       | origins (https://shop.example.com) whose pages may call viewer/ (CORS) |
| CENTER_FRAME_ANCESTORS | []                       | origins (https://shop.example.com) whose pages may embed the distributor's center (frame-ancestors) |
| CLICK_RATE_PER_ADDRESS | 30                       | share-link clicks per client address per minute; more get 429 |
| CLICK_RATE_PER_LINK_ADDRESS | 10                  | clicks on one share link per client address per minute; more get 429 |
| DISPLAY_TIME_ZONE | the project's TIME_ZONE (else UTC) | the zone times are shown and typed in: admin, API messages, CLI output |
| WITHDRAWAL_MINIMUM | "10"                          | the smallest withdrawal; a {currency: amount} dict for several currencies |
| PAYOUT_METHODS  | bank, alipay, wechat, paypal    | the payout methods distributors may choose from     |
| PAYOUT_KEY      | "" (derived from SECRET_KEY, with a warning) | Fernet key(s) for account details at rest; first one encrypts |
| PAYOUT_WEBHOOK_URL | ""                           | the payment gateway that receives payout batches (signed) |
| PAYOUT_WEBHOOK_SECRET | ""                        | the HMAC-SHA256 key batches and the gateway's callbacks are signed with |
| APP_ALLOWED_SALEORS | []                          | App mode: the Saleor API URLs (https://shop.example.com/graphql/) that may install the app |
| APP_REPLAY_WINDOW | 3600                          | App mode: a webhook delivery issued longer ago than this many seconds is refused as a replay |
| APP_PUBLIC_URL  | "" (the request's own URL)      | App mode: the URL Saleor reaches the app at, for the manifest's URLs |
| PARTITIONS      | 1                               | inbox partitions processed at once, one worker each (docs/performance.md, "Scaling out") |
| PARTITION_QUEUE | "livedist.p{partition}"         | the Celery queue a partition's processing task is sent to (PARTITIONS > 1) |

Inside Saleor, the plugin's configuration (dashboard) overrides these through `set_overrides`.
"""
from __future__ import annotations

import os
from typing import Any

from .exceptions import LiveDistError

DEFAULTS: dict[str, Any] = {
    "ENGINE": None,
    "RULES_DIR": None,
    "RELOAD_INTERVAL": 1.0,
    "STOREFRONT_URL": "http://localhost:3000/{kind}/{target}?livedist_ref={token}",
    "LINK_MAX_AGE_DAYS": 365,
    "REMINDER_WEBHOOK_URL": "",  # a gateway (SMS, WeChat official account) that receives signed reminders
    "REMINDER_WEBHOOK_SECRET": "",  # HMAC-SHA256 key for the X-Livedist-Signature header
    "REMINDER_NOTIFIERS": ["saleor_livedist.live_room.reminders.by_email", "saleor_livedist.live_room.reminders.by_webhook"],
    "REMINDER_OFFSETS": [30, 5],  # minutes before a live's scheduled start; a live's own reminder_offsets win
    # Limits on one GraphQL request, checked before it runs (graphql/limits.py; docs/saleor.md, "Limits").
    "GRAPHQL_MAX_BODY_BYTES": 100_000,
    "GRAPHQL_MAX_DEPTH": 15,
    "GRAPHQL_MAX_ALIASES": 30,
    "GRAPHQL_MAX_FIELDS": 500,
    "GRAPHQL_MAX_COST": 5000,
    "GRAPHQL_MAX_PAGE": 200,
    # Origins whose pages may call the viewer endpoint from the browser (CORS, with credentials); never "*".
    "VIEWER_ALLOWED_ORIGINS": [],
    # Origins whose pages may show the distributor's center in a frame (CSP frame-ancestors); never "*".
    "CENTER_FRAME_ANCESTORS": [],
    # The share-link endpoint's rate limits (distribution/guards.py); the daily limits are the rules' guards.
    "CLICK_RATE_PER_ADDRESS": 30,
    "CLICK_RATE_PER_LINK_ADDRESS": 10,
    # The zone people read and type times in (display.py); stored times stay UTC. None: settings.TIME_ZONE.
    "DISPLAY_TIME_ZONE": None,
    # Payouts (payouts/; docs/payouts.md).
    "WITHDRAWAL_MINIMUM": "10",  # or {"CNY": "10", "USD": "5"}; a currency not listed has no minimum beyond 0
    "PAYOUT_METHODS": ["bank", "alipay", "wechat", "paypal"],
    "PAYOUT_KEY": "",  # Fernet key(s), comma-separated (the first encrypts); "": derived from SECRET_KEY
    "PAYOUT_WEBHOOK_URL": "",
    "PAYOUT_WEBHOOK_SECRET": "",
    # App mode (app_server/; docs/app-mode.md).
    "APP_ALLOWED_SALEORS": [],  # API URLs, or one comma-separated string; nothing else may install the app
    "APP_REPLAY_WINDOW": 3600,  # seconds; Saleor retries a failed delivery for a few minutes with the same payload
    "APP_PUBLIC_URL": "",  # https://livedist.example.com/ behind a proxy; "": the request's own scheme and host
    # Partitioned processing (inbox/routing.py). 1: one lock, every event in submit order, as always.
    "PARTITIONS": 1,
    "PARTITION_QUEUE": "livedist.p{partition}",
}
POSITIVE_INTS = ("GRAPHQL_MAX_BODY_BYTES", "GRAPHQL_MAX_DEPTH", "GRAPHQL_MAX_ALIASES", "GRAPHQL_MAX_FIELDS",
                 "GRAPHQL_MAX_COST", "GRAPHQL_MAX_PAGE", "CLICK_RATE_PER_ADDRESS", "CLICK_RATE_PER_LINK_ADDRESS",
                 "APP_REPLAY_WINDOW", "PARTITIONS")
_overrides: dict[str, Any] = {}


def set_overrides(values: dict[str, Any]) -> None:
    """Settings from the Saleor plugin's configuration; they win over settings.LIVEDIST."""
    unknown = sorted(set(values) - set(DEFAULTS))
    if unknown:
        raise ImproperlyConfigured(f"unknown livedist setting(s) {', '.join(unknown)}")
    _overrides.clear()
    _overrides.update({k: v for k, v in values.items() if v not in (None, "")})


class ImproperlyConfigured(LiveDistError, ValueError):
    """A setting has a wrong name or value; the message names the setting to fix."""


def _django_settings() -> dict[str, Any] | None:
    try:
        from django.conf import settings
    except ImportError:  # pragma: no cover - Django is a dependency, but the core must not need it
        return None
    if not settings.configured:
        return None
    value = getattr(settings, "LIVEDIST", {})
    if not isinstance(value, dict):
        raise ImproperlyConfigured(f"settings.LIVEDIST must be a dict, got {type(value).__name__}")
    return value


def get_setting(name: str) -> Any:
    if name not in DEFAULTS:
        raise ImproperlyConfigured(f"unknown livedist setting {name!r}; known: {', '.join(sorted(DEFAULTS))}")
    configured = _django_settings()
    if name in _overrides:
        value = _overrides[name]
    elif configured is not None:
        unknown = sorted(set(configured) - set(DEFAULTS))
        if unknown:
            raise ImproperlyConfigured(
                f"settings.LIVEDIST has unknown key(s) {', '.join(unknown)}; known: {', '.join(sorted(DEFAULTS))}"
            )
        value = configured.get(name, DEFAULTS[name])
    else:
        value = os.environ.get(f"LIVEDIST_{name}", DEFAULTS[name])
    if name == "ENGINE" and value not in (None, "", "durable", "python"):
        raise ImproperlyConfigured(f"LIVEDIST ENGINE must be 'durable' or 'python', got {value!r}")
    if name == "LINK_MAX_AGE_DAYS":
        try:
            value = int(value)
        except (TypeError, ValueError):
            raise ImproperlyConfigured(f"LIVEDIST LINK_MAX_AGE_DAYS must be a whole number of days, got {value!r}") \
                from None
    if name in POSITIVE_INTS:
        try:
            value = int(value)
        except (TypeError, ValueError):
            raise ImproperlyConfigured(f"LIVEDIST {name} must be a whole number, got {value!r}") from None
        if value < 1:
            raise ImproperlyConfigured(f"LIVEDIST {name} must be at least 1, got {value!r}")
        return value
    if name in ("VIEWER_ALLOWED_ORIGINS", "CENTER_FRAME_ANCESTORS"):
        return parse_origins(value, name)
    if name == "WITHDRAWAL_MINIMUM":
        return _minimums(value)
    if name == "PAYOUT_METHODS":
        methods = [p.strip() for p in value.split(",") if p.strip()] if isinstance(value, str) else list(value)
        unknown = sorted(set(methods) - set(DEFAULTS["PAYOUT_METHODS"]))
        if not methods or unknown:
            raise ImproperlyConfigured(f"LIVEDIST PAYOUT_METHODS must list some of {', '.join(DEFAULTS['PAYOUT_METHODS'])}"
                                       f", got {value!r}")
        return methods
    if name == "REMINDER_OFFSETS":
        return reminder_offsets(value, f"LIVEDIST {name}")
    if name == "REMINDER_NOTIFIERS":
        value = [p.strip() for p in value.split(",") if p.strip()] if isinstance(value, str) else list(value)
    if name == "STOREFRONT_URL" and "{token}" not in str(value):
        raise ImproperlyConfigured(
            f"LIVEDIST STOREFRONT_URL must contain {{token}} (the storefront passes it to checkout), got {value!r}")
    if name == "PARTITION_QUEUE" and "{partition}" not in str(value):
        raise ImproperlyConfigured(f"LIVEDIST PARTITION_QUEUE must contain {{partition}}, got {value!r}")
    if name == "RELOAD_INTERVAL":
        try:
            value = float(value)
        except (TypeError, ValueError):
            raise ImproperlyConfigured(f"LIVEDIST RELOAD_INTERVAL must be a number of seconds, got {value!r}") from None
    return value or DEFAULTS[name]


def parse_origins(value: Any, name: str) -> list[str]:
    """Allowed origins as browsers send them (scheme://host[:port]: no path, no slash at the end)."""
    from urllib.parse import urlsplit

    items = [v.strip() for v in value.split(",")] if isinstance(value, str) else list(value or [])
    origins = []
    for item in (i for i in items if i):
        parts = urlsplit(item) if isinstance(item, str) else None
        if item == "*" or parts is None or parts.scheme not in ("http", "https") or not parts.netloc \
                or parts.path not in ("", "/") or parts.query or parts.fragment:
            raise ImproperlyConfigured(
                f"LIVEDIST {name} must list origins such as https://shop.example.com (no '*': the "
                f"endpoint is used with cookies), got {item!r}")
        origins.append(f"{parts.scheme}://{parts.netloc}".lower())
    return origins


def _minimums(value: Any) -> dict[str, Any]:
    """WITHDRAWAL_MINIMUM as {currency: Decimal}, with "*" for every currency not named."""
    from decimal import Decimal, InvalidOperation

    items = value.items() if isinstance(value, dict) else [("*", value)]
    out = {}
    for currency, amount in items:
        try:
            minimum = Decimal(str(amount))
        except InvalidOperation:
            minimum = Decimal(-1)
        if isinstance(amount, float) or not minimum.is_finite() or minimum < 0:
            raise ImproperlyConfigured(f"LIVEDIST WITHDRAWAL_MINIMUM must be an amount such as \"10\" (or a dict "
                                       f"{{currency: amount}}), got {value!r}")
        out[str(currency).upper() if currency != "*" else "*"] = minimum
    return out


MAX_REMINDER_OFFSET = 1440  # minutes: a day before the start at most


def reminder_offsets(value: Any, where: str) -> list[int]:
    """Minutes before a live's start, as a sorted list without repeats (largest first); "30,5" or [30, 5]; an
    empty list means no reminder before the start. ImproperlyConfigured naming `where` otherwise."""
    items = [p.strip() for p in value.split(",") if p.strip()] if isinstance(value, str) else list(value or [])
    try:
        minutes = sorted({int(v) for v in items if not isinstance(v, bool) and str(int(v)) == str(v).strip()},
                         reverse=True)
    except (TypeError, ValueError):
        minutes = []
    if len(minutes) != len(set(map(str, items))) or any(not 1 <= m <= MAX_REMINDER_OFFSET for m in minutes):
        raise ImproperlyConfigured(f"{where} must be whole numbers of minutes from 1 to {MAX_REMINDER_OFFSET}, e.g. "
                                   f"[30, 5], got {value!r}")
    return minutes
