"""PostgreSQL for the sandbox: DATABASE_URL when set, else an embedded server from the `pgserver` package
(a real PostgreSQL from a wheel, started in about a second, no system install)."""
from __future__ import annotations

import os
import tempfile
import warnings
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote, urlparse

from ..exceptions import LiveDistError

_server: Any = None


def embedded_url(data_dir: str | None = None) -> str:
    """Start (or reuse) the embedded PostgreSQL and return its URL."""
    global _server
    if _server is None:
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                import pgserver
        except ImportError:
            raise LiveDistError(
                "no DATABASE_URL is set and the embedded PostgreSQL is not installed: "
                "pip install pgserver, or set DATABASE_URL=postgres://user@host:5432/dbname"
            ) from None
        directory = data_dir or os.environ.get("LIVEDIST_PGDATA") or str(
            Path(tempfile.gettempdir()) / f"livedist-pg-{os.getuid()}")
        with warnings.catch_warnings():  # platformdirs warns when XDG_RUNTIME_DIR is unset (root, CI)
            warnings.simplefilter("ignore")
            _server = pgserver.get_server(directory, cleanup_mode="stop")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return str(_server.get_uri())


def parse_database_url(url: str) -> dict[str, Any]:
    parsed = urlparse(url)
    if parsed.scheme not in ("postgres", "postgresql"):
        raise LiveDistError(f"DATABASE_URL must be a postgres:// URL, got scheme {parsed.scheme!r}")
    query = parse_qs(parsed.query)
    host = query.get("host", [parsed.hostname or ""])[0]
    return {
        "ENGINE": "django.db.backends.postgresql",
        "NAME": unquote(parsed.path.lstrip("/")) or "postgres",
        "USER": unquote(parsed.username or "postgres"),
        "PASSWORD": unquote(parsed.password or ""),
        "HOST": host,
        "PORT": str(parsed.port or query.get("port", [""])[0]),
        "CONN_MAX_AGE": 0,
    }


def database_settings() -> dict[str, Any]:
    url = os.environ.get("DATABASE_URL") or embedded_url()
    return parse_database_url(url)
