"""The Saleor instances the app serves. A tenant is named by its normalized API URL; its tables live in a
PostgreSQL schema of their own (search_path, saleor_livedist/db/schemas.py), created and migrated when the
instance installs the app, so one instance's events, ledger and payouts never meet another's. The app's token
there is kept encrypted (Fernet, with the payout details' keys: PAYOUT_KEY)."""
from __future__ import annotations

import hashlib
from collections.abc import Iterator
from contextlib import contextmanager
from urllib.parse import urlsplit, urlunsplit

from django.db import connection, transaction
from django.utils import timezone

from ..conf import ImproperlyConfigured, get_setting
from ..db import schemas
from ..exceptions import LiveDistError
from .models import Tenant

SCHEMA_PREFIX = "livedist_"
DEFAULT_PORTS = {"http": 80, "https": 443}


class NotAnApiUrl(LiveDistError, ValueError):
    """A Saleor API URL that is not an http(s) URL."""


def normalize_api_url(url: str) -> str:
    """One spelling per instance: lower-case scheme and host, no default port, the path ending in /, no query."""
    parts = urlsplit((url or "").strip())
    if parts.scheme.lower() not in DEFAULT_PORTS or not parts.hostname:
        raise NotAnApiUrl(f"not an http(s) URL: {url!r}")
    try:
        port = parts.port
    except ValueError:
        raise NotAnApiUrl(f"not an http(s) URL: {url!r}") from None
    scheme = parts.scheme.lower()
    host = parts.hostname.lower()
    if ":" in host:
        host = f"[{host}]"
    netloc = host if port in (None, DEFAULT_PORTS[scheme]) else f"{host}:{port}"
    path = parts.path or "/"
    return urlunsplit((scheme, netloc, path if path.endswith("/") else path + "/", "", ""))


def allowed_instances() -> set[str]:
    value = get_setting("APP_ALLOWED_SALEORS")
    items = [v.strip() for v in value.split(",")] if isinstance(value, str) else list(value or [])
    try:
        return {normalize_api_url(item) for item in items if item}
    except NotAnApiUrl as exc:
        raise ImproperlyConfigured(f"LIVEDIST APP_ALLOWED_SALEORS must list Saleor API URLs such as "
                                   f"https://shop.example.com/graphql/: {exc}") from None


def is_allowed(api_url: str) -> bool:
    return api_url in allowed_instances()


def schema_for(api_url: str) -> str:
    return SCHEMA_PREFIX + hashlib.sha256(api_url.encode()).hexdigest()[:20]


def provision(schema: str) -> None:
    """The schema with the package's tables, migrated to the current code (no-op when it already is). Not inside
    a transaction: one migration builds its indexes concurrently."""
    from django.core.management import call_command

    if not schemas.SCHEMA_NAME.fullmatch(schema):
        raise LiveDistError(f"not a schema name this package makes: {schema!r}")
    with connection.cursor() as cursor:
        cursor.execute(f'CREATE SCHEMA IF NOT EXISTS "{schema}"')
    with schemas.use_schema(schema):
        call_command("migrate", interactive=False, verbosity=0)


def register(api_url: str, token: str, app_id: str) -> Tenant:
    """Keep (or replace, on a reinstall) the instance's token; its schema is migrated first."""
    schema = schema_for(api_url)
    provision(schema)
    with transaction.atomic():
        tenant, _created = Tenant.objects.update_or_create(
            api_url=api_url, defaults={"schema": schema, "sealed_token": seal_token(token), "app_id": app_id,
                                       "registered_at": timezone.now()})
    return tenant


def tenant_for(api_url: str) -> Tenant | None:
    return Tenant.objects.filter(api_url=api_url).first()


@contextmanager
def in_tenant(tenant: Tenant) -> Iterator[Tenant]:
    """The package's tables of this tenant, for the block (requests and tasks alike)."""
    with schemas.use_schema(tenant.schema):
        yield tenant


def seal_token(token: str) -> str:
    from ..payouts.accounts import encryptor

    return encryptor().encrypt(token.encode()).decode()


def token_of(tenant: Tenant) -> str:
    """The app's token in the tenant's Saleor, for calls to its GraphQL API."""
    from ..payouts.accounts import encryptor

    return encryptor().decrypt(tenant.sealed_token.encode()).decode()
