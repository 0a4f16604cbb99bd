"""The question queue: customers' questions distributors queued for the host, open ones first, answered
through the same service as the API's liveQuestionAnswer."""
from __future__ import annotations

from django.db.models import Case, IntegerField, Value, When
from django.http import HttpResponse
from django.utils.translation import gettext as _

from ..exceptions import ServiceError
from ..identity import staff_labels
from ..live_room import questions
from ..models import LiveQuestion
from .access import MANAGE_PRODUCTS
from .pages import Console, Outcome, Route, paginate


def listing(console: Console, outcome: Outcome | None = None) -> HttpResponse:
    live, status = console.query("live"), console.query("status") or LiveQuestion.OPEN
    rows = LiveQuestion.objects.select_related("live")
    if live:
        rows = rows.filter(live_id=live)
    if status != "all":
        rows = rows.filter(status=status)
    open_first = Case(When(status=LiveQuestion.OPEN, then=Value(0)), default=Value(1), output_field=IntegerField())
    page = paginate(console, rows.order_by(open_first, "created_at", "id"), "questions/", live=live, status=status)
    labels = staff_labels(sorted({p for q in page.rows for p in (q.asked_by, q.customer) if p}))
    return console.render("questions.html", {
        "area": "questions/", "page": page, "live": live, "status": status,
        "items": [{"question": q, "asked_by": labels[q.asked_by], "customer": labels.get(q.customer, "")}
                  for q in page.rows],
        "can_answer": console.can(MANAGE_PRODUCTS),
        "answer_url": console.url("questions/answer", live=live, status=status, page=console.query("page")),
    }, outcome)


def answer(console: Console) -> HttpResponse:
    try:
        question = questions.answer_question(int(console.request.POST.get("question", "0") or 0), console.staff.id,
                                             is_staff=True)
    except (ServiceError, ValueError) as exc:
        error = Outcome.of(exc) if isinstance(exc, ServiceError) else Outcome(errors=[("id", _("no such question"))])
        return listing(console, error)
    return listing(console, Outcome(notice=_("Answered: %(text)s") % {"text": question.text}))


ROUTES = [Route("questions/", get=listing), Route("questions/answer", post=answer, permission=MANAGE_PRODUCTS)]
