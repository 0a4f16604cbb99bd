"""Which PostgreSQL schema the package's tables are in for this thread: one schema per Saleor instance in App
mode (saleor_livedist/app_server/tenants.py), the connection's own search_path everywhere else."""
from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from django.db import connection

from ..exceptions import LiveDistError

SCHEMA_NAME = re.compile(r"[a-z_][a-z0-9_]{0,62}")
_current: ContextVar[str] = ContextVar("livedist_schema", default="")


def current() -> str:
    """The schema `use_schema` switched to, or "" (the connection's default search_path)."""
    return _current.get()


@contextmanager
def use_schema(schema: str) -> Iterator[None]:
    """The package's tables read and written in `schema` only (search_path), until the block ends; the
    connection's search_path is then what it was. Use it outside transaction.atomic blocks, not inside one
    that may fail (the search_path cannot be put back in an aborted transaction)."""
    if not SCHEMA_NAME.fullmatch(schema):
        raise LiveDistError(f"not a schema name this package makes: {schema!r}")
    with connection.cursor() as cursor:
        cursor.execute("SHOW search_path")
        previous = cursor.fetchone()[0]
        cursor.execute(f'SET search_path TO "{schema}"')
    token = _current.set(schema)
    try:
        yield
    finally:
        _current.reset(token)
        with connection.cursor() as cursor:
            cursor.execute("SELECT set_config('search_path', %s, false)", [previous])
