"""The rule versions page: every version the store has seen (the active one, rejected changes with their
problems), its files, how many ledger entries it produced, and a line-by-line diff between two versions."""
from __future__ import annotations

import difflib
from django.db.models import Count
from django.http import HttpResponse
from django.utils.translation import gettext as _

from ..models import LedgerEntry, RuleVersion
from .pages import Console, Outcome, Route, paginate


def listing(console: Console, outcome: Outcome | None = None, status: int | None = None) -> HttpResponse:
    page = paginate(console, RuleVersion.objects.order_by("-first_seen", "version"), "rules/")
    versions = [v.version for v in page.rows]
    counts = dict(LedgerEntry.objects.filter(rules_version__in=versions).values_list("rules_version")
                  .annotate(n=Count("id")).values_list("rules_version", "n"))
    items = [{"version": v, "files": sorted(v.files), "problems": len(v.problems), "entries": counts.get(v.version, 0)}
             for v in page.rows]
    accepted = [v for v in versions if not v.startswith("rejected-")]
    return console.render("rules.html", {
        "area": "rules/", "page": page, "items": items,
        "a": accepted[1] if len(accepted) > 1 else "", "b": accepted[0] if accepted else "",
        "choices": accepted}, outcome, status)


def detail(console: Console, version: str) -> HttpResponse:
    row = RuleVersion.objects.filter(version=version).first()
    if row is None:
        return listing_with(console, _("There is no rules version %(version)s.") % {"version": version})
    return console.render("rule_version.html", {
        "area": "rules/", "row": row, "files": sorted(row.files.items()),
        "entries": LedgerEntry.objects.filter(rules_version=version).count()})


def listing_with(console: Console, error: str) -> HttpResponse:
    return listing(console, Outcome(errors=[("version", error)]), status=404)


def diff(console: Console) -> HttpResponse:
    a, b = console.query("a"), console.query("b")
    rows = {v.version: v for v in RuleVersion.objects.filter(version__in=[a, b])}
    missing = [v for v in (a, b) if v not in rows]
    if missing:
        return listing_with(console, _("Choose two rules versions to compare (not found: %(versions)s).") % {
            "versions": ", ".join(m or "-" for m in missing)})
    files = []
    for name in sorted(set(rows[a].files) | set(rows[b].files)):
        old, new = rows[a].files.get(name, ""), rows[b].files.get(name, "")
        if old != new:
            files.append((name, changed_lines(old, new, f"{a[:12]}/{name}", f"{b[:12]}/{name}")))
    return console.render("rule_diff.html", {"area": "rules/", "a": rows[a], "b": rows[b], "files": files})


def changed_lines(old: str, new: str, old_name: str, new_name: str) -> list[tuple[str, str]]:
    """A unified diff as (css class, line): 'add', 'del', 'hunk' or '' for context."""
    lines = []
    for line in difflib.unified_diff(old.splitlines(), new.splitlines(), old_name, new_name, lineterm=""):
        kind = ("hunk" if line.startswith("@@") else "" if line.startswith(("---", "+++"))
                else "add" if line.startswith("+") else "del" if line.startswith("-") else "")
        lines.append((kind, line))
    return lines


ROUTES = [Route("rules/", get=listing), Route("rules/diff", get=diff),
          Route(r"rules/(?P<version>[^/]+)/", get=detail)]
