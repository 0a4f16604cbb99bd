"""CSV of any report: the columns are the row dataclass's fields; money as plain decimal strings, times in the
display time zone (saleor_livedist/display.py)."""
from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import fields, is_dataclass
from datetime import datetime
from decimal import Decimal
from operator import attrgetter
from typing import Any

from ..display import zone


def _decimal(value: Decimal) -> str:
    return format(value, "f")


# The common cells by exact type, looked up once per cell: an export of 20,000 rows has 200,000 of them.
_BY_TYPE: dict[type, Callable[[Any], str]] = {str: str, int: str, Decimal: _decimal, type(None): lambda _: ""}


def cell(value: Any) -> str:
    """One value as the CSV writes it."""
    plain = _BY_TYPE.get(type(value))
    if plain is not None:
        return plain(value)
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, datetime):
        return value.astimezone(zone()).isoformat()
    if isinstance(value, (tuple, list)):
        return ";".join(cell(v) for v in value)
    return str(value)


def _columns(rows: Sequence[Any], columns: Sequence[str] | None) -> list[str]:
    if columns is not None:
        return list(columns)
    if not rows or not is_dataclass(rows[0]):
        raise ValueError("to_csv needs report rows (dataclasses), or the column names for an empty report")
    return [f.name for f in fields(rows[0])]


def csv_lines(rows: Iterable[Any], columns: Sequence[str]) -> Iterator[str]:
    """The CSV a line at a time (header first), for a streaming response."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(columns)
    for row in rows:
        writer.writerow([cell(getattr(row, name)) for name in columns])
        yield _drain(buffer)
    yield _drain(buffer)


def _drain(buffer: io.StringIO) -> str:
    text = buffer.getvalue()
    buffer.seek(0)
    buffer.truncate()
    return text


def to_csv(rows: Sequence[Any], columns: Sequence[str] | None = None) -> str:
    """The whole CSV of a report's rows. An empty report needs its `columns` (e.g. `header(FunnelRow)`). The
    same text as csv_lines, written at once."""
    names = _columns(rows, columns)
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(names)
    values = attrgetter(*names) if len(names) > 1 else (lambda row: (getattr(row, names[0]),))
    writer.writerows([cell(v) for v in values(row)] for row in rows)
    return buffer.getvalue()


def header(row_type: type) -> list[str]:
    """The columns of a report's row type."""
    return [f.name for f in fields(row_type)]
