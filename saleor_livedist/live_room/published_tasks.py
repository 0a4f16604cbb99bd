"""Invite tasks staff publish for one live, from the API or the admin, without editing a rule file.

A published task is a rule document (docs/rules.md, "tasks") kept in PublishedTask and loaded with the rule
files as one rule set (db.published_tasks, the overlay): the same validation, the same version hash, the same
engine.
Publishing checks the whole rule set first, so a task that would make the rules invalid is refused with the
loader's own messages and nothing is kept."""
from __future__ import annotations

from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from ..exceptions import RuleFileError, ServiceError
from ..models import PublishedTask
from ..rules.documents import task_document
from .lives import locked_before_end


class RuleProblems(ServiceError):
    """A published task the rules would reject: one error per problem, in the loader's words."""

    def __init__(self, exc: RuleFileError):
        self.problems = exc.problems
        super().__init__("task", exc.problems[0].code, "; ".join(str(p) for p in exc.problems))


def publish_task(live_id: str, task_id: str, published_by: str = "", **fields: Any) -> PublishedTask:
    """Check the task with the whole rule set, then keep it; every worker picks it up at its next reload
    check (RELOAD_INTERVAL), this process at once. Raises ServiceError (RuleProblems for rule problems)."""
    from ..inbox.processing import rules_source

    with transaction.atomic():
        live = locked_before_end(live_id, _("an invite task staff publish"))
        existing = PublishedTask.objects.filter(task_id=task_id).first()
        if existing is not None:
            message = (_("a task %(id)r was withdrawn already (for live %(live)s); task ids are never reused, pick "
                         "another") if existing.withdrawn_at else
                       _("a task %(id)r was published already (for live %(live)s); task ids are never reused, pick "
                         "another"))
            raise ServiceError("id", "UNIQUE", message % {"id": task_id, "live": existing.live_id})
        row = PublishedTask(live=live, task_id=task_id, document=task_document(live_id, task_id, **fields),
                            published_by=published_by)
        try:
            rules_source().check({row.document_name: row.document})
        except RuleFileError as exc:
            raise RuleProblems(exc) from None
        row.save()
        transaction.on_commit(lambda: rules_source().reload_if_changed(force=True))
    return row


def withdraw_task(task_id: str) -> PublishedTask:
    """New invitees stop counting for it; points already granted stay."""
    from ..inbox.processing import rules_source

    with transaction.atomic():
        row = PublishedTask.objects.select_for_update().filter(task_id=task_id).first()
        if row is None:
            raise ServiceError("id", "NOT_FOUND", _("no published task %(id)r (tasks in rule files are "
                                                    "withdrawn by editing the file)") % {"id": task_id})
        if row.withdrawn_at is None:
            row.withdrawn_at = row.changed_at = timezone.now()
            row.save(update_fields=["withdrawn_at", "changed_at"])
            transaction.on_commit(lambda: rules_source().reload_if_changed(force=True))
    return row
