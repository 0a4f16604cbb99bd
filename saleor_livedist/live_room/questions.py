"""Questions for the host: distributors queue their customers' questions during a live; the host or staff
answer them."""
from __future__ import annotations

from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from ..exceptions import ServiceError
from ..models import Alias, Binding, Distributor, LiveQuestion, LiveSession


MAX_QUESTION = 500


def ask_question(live_id: str, distributor: str, text: str, customer: str = "") -> LiveQuestion:
    """A distributor queues a question for the host; only while the live is scheduled or on air."""
    text = text.strip()
    if not Distributor.objects.filter(id=distributor).exists():
        raise ServiceError(None, "NOT_A_DISTRIBUTOR", _("only distributors queue questions for the host"))
    if not text or len(text) > MAX_QUESTION:
        raise ServiceError("text", "INVALID", _("a question has 1 to %(n)d characters") % {"n": MAX_QUESTION})
    live = LiveSession.objects.filter(id=live_id).first()
    if live is None:
        raise ServiceError("live", "NOT_FOUND", _("no live %(id)r") % {"id": live_id})
    if live.status == LiveSession.ENDED:
        raise ServiceError("live", "INVALID_STATE", _("the live has ended"))
    if customer and not is_bound_to(customer, distributor):
        raise ServiceError("customer", "NOT_YOUR_CUSTOMER", _(
            "questions can name only customers bound to you (see me { customers }); leave customer empty otherwise"))
    return LiveQuestion.objects.create(live=live, asked_by=distributor, customer=customer, text=text)


def is_bound_to(identity: str, distributor: str) -> bool:
    """Whether the person (a stitched visitor id counts as its customer) is bound to the distributor now."""
    customer = Alias.objects.filter(visitor=identity).values_list("customer", flat=True).first() or identity
    return Binding.objects.filter(Q(expires_at__isnull=True) | Q(expires_at__gt=timezone.now()),
                                  identity=customer, distributor=distributor).exists()


def can_host(live: LiveSession, identity: str | None, is_staff: bool) -> bool:
    return is_staff or (identity is not None and identity == live.host)


@transaction.atomic
def answer_question(question_id: int, identity: str | None, is_staff: bool) -> LiveQuestion:
    question = LiveQuestion.objects.select_for_update().select_related("live").filter(id=question_id).first()
    if question is None:
        raise ServiceError("id", "NOT_FOUND", _("no such question"))
    if not can_host(question.live, identity, is_staff):
        raise ServiceError(None, "PERMISSION_DENIED", _("only the host or staff answer questions"))
    if question.status != LiveQuestion.ANSWERED:
        question.status, question.answered_at = LiveQuestion.ANSWERED, timezone.now()
        question.save(update_fields=["status", "answered_at"])
    return question
