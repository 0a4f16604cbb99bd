"""The tasks staff published (PublishedTask), as the rules overlay the inbox loads with the rule files: a cheap
fingerprint to notice a change, and the documents themselves (live_room.published_tasks writes them)."""
from __future__ import annotations

from typing import Any

from django.db import connection, transaction

from ..models import PublishedTask
from ..rules.provider import Overlay

FINGERPRINT_SQL = f"SELECT count(*), max(changed_at) FROM {PublishedTask._meta.db_table}"


def _fingerprint() -> tuple[Any, ...]:
    with transaction.atomic(), connection.cursor() as cursor:  # a savepoint: a failure spoils nothing around it
        cursor.execute(FINGERPRINT_SQL)
        return tuple(cursor.fetchone())


def _texts() -> dict[str, str]:
    rows = PublishedTask.objects.filter(withdrawn_at__isnull=True).order_by("id")
    return {row.document_name: row.document for row in rows}


OVERLAY = Overlay(fingerprint=_fingerprint, texts=_texts)
