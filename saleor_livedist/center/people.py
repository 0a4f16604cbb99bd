"""My customers and prospects: the customers bound to a distributor and the people who clicked their links but did
not buy, watched a live they were invited to without ordering, or had a question queued for the host - each with
a suggested next step, shown masked as the API shows people. A distributor's own tags and notes on them are read
and written only by that distributor (every call names the distributor; a person is reached only through a
reference that resolves among that distributor's own people)."""
from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timezone as dt_timezone
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Count, Max
from django.utils import timezone
from django.utils.crypto import salted_hmac
from django.utils.translation import gettext as _, gettext_lazy

from ..exceptions import ServiceError
from ..identity import GUEST_PREFIX, USER_PREFIX, display_names
from ..models import (Alias, Binding, Click, CustomerNote, CustomerTag, LiveInvitation, LiveQuestion, Order,
                      Watch)

TAG_MAX = 32
TAGS_PER_PERSON = 20
NOTE_MAX = 1000
PEOPLE_SHOWN = 200
_UNPRINTABLE = re.compile("[\x00-\x1f\x7f\ud800-\udfff]")

NEXT_STEPS = {  # what to do next, by what the person has done
    "asked": gettext_lazy("Send the answer to their question, with the replay or a clip of that moment."),
    "watched": gettext_lazy("Send the replay and your coupon."),
    "clicked": gettext_lazy("Send the link again with your coupon code: they looked but did not buy."),
    "bound": gettext_lazy("Send your coupon for a first order."),
    "bought": gettext_lazy("Invite them to your next live."),
}
STAGES = {"bought": gettext_lazy("customer"), "bound": gettext_lazy("bound, no order yet"),
          "asked": gettext_lazy("asked a question"), "watched": gettext_lazy("watched, did not order"),
          "clicked": gettext_lazy("clicked, did not buy")}


@dataclass
class PersonRow:
    ref: str
    name: str
    stage: str
    stage_name: str
    next_step: str
    bound: bool = False
    orders: int = 0
    clicks: int = 0
    lives_watched: int = 0
    questions: int = 0
    last_seen: datetime | None = None
    tags: list[str] = field(default_factory=list)
    note: str = ""


def ref_of(distributor: str, identity: str) -> str:
    """An opaque name for a person, only meaningful to this distributor: the page never shows an identity."""
    return salted_hmac("saleor_livedist.center.person", f"{distributor}\n{identity}").hexdigest()[:20]


def _known(identity: str) -> bool:
    return identity.startswith((USER_PREFIX, GUEST_PREFIX))  # anonymous visitor ids cannot be followed up


def _signals(distributor: str) -> dict[str, dict[str, Any]]:
    """Everything the distributor's people did, by the person (visitor ids stitched to their customer)."""
    people: dict[str, dict[str, Any]] = defaultdict(lambda: defaultdict(int))
    for binding in Binding.objects.filter(distributor=distributor).order_by("-at")[:PEOPLE_SHOWN * 5]:
        people[binding.identity]["bound"] = True
        people[binding.identity]["last"] = max(binding.at, people[binding.identity].get("last") or binding.at)
    for row in (Click.objects.filter(distributor=distributor).values("identity")
                .annotate(n=Count("id"), last=Max("at")).order_by("-last")[:PEOPLE_SHOWN * 5]):
        people[row["identity"]]["clicks"] += row["n"]
        people[row["identity"]]["last"] = max(row["last"], people[row["identity"]].get("last") or row["last"])
    invited = LiveInvitation.objects.filter(distributor=distributor).values_list("live", "viewer")[:PEOPLE_SHOWN * 20]
    by_live = defaultdict(set)
    for live, viewer in invited:
        by_live[live].add(viewer)
    for live, viewers in by_live.items():
        for viewer, seen in Watch.objects.filter(live=live, viewer__in=viewers).values_list("viewer", "last_seen"):
            people[viewer]["watched"] += 1
            if seen is not None:
                people[viewer]["last"] = max(seen, people[viewer].get("last") or seen)
    for question in LiveQuestion.objects.filter(asked_by=distributor).exclude(customer="")[:PEOPLE_SHOWN * 5]:
        people[question.customer]["asked"] += 1
        people[question.customer]["last"] = max(question.created_at,
                                                people[question.customer].get("last") or question.created_at)
    customers = dict(Alias.objects.filter(visitor__in=[i for i in people if not _known(i)])
                     .values_list("visitor", "customer"))
    merged: dict[str, dict[str, Any]] = defaultdict(lambda: defaultdict(int))
    for identity, seen in people.items():
        person = merged[customers.get(identity, identity)]
        for key, value in seen.items():
            if key == "last":
                person["last"] = max(value, person.get("last") or value)
            elif key == "bound":
                person["bound"] = True
            else:
                person[key] += value
    return {identity: seen for identity, seen in merged.items() if _known(identity) and identity != distributor}


def _stage(seen: dict[str, Any], orders: int, bought_anywhere: bool) -> str:
    if orders:
        return "bought"
    if seen.get("asked"):
        return "asked"
    if seen.get("watched") and not bought_anywhere:
        return "watched"
    if seen.get("clicks") and not bought_anywhere:
        return "clicked"
    return "bound" if seen.get("bound") else ("watched" if seen.get("watched") else "clicked")


def people_of(distributor: str, stage: str = "", tag: str = "") -> list[PersonRow]:
    """The distributor's customers and prospects, most recently active first, masked, with their own tags/notes."""
    seen = _signals(distributor)
    ids = list(seen)
    orders = dict(Order.objects.filter(customer__in=ids, paid_at__isnull=False,
                                       snapshot__attribution__paid_to=distributor)
                  .values_list("customer").annotate(n=Count("id")).values_list("customer", "n"))
    buyers = set(Order.objects.filter(customer__in=ids, paid_at__isnull=False).values_list("customer", flat=True))
    tags: dict[str, list[str]] = defaultdict(list)
    for customer, name in (CustomerTag.objects.filter(distributor=distributor, customer__in=ids)
                           .order_by("tag").values_list("customer", "tag")):
        tags[customer].append(name)
    notes = dict(CustomerNote.objects.filter(distributor=distributor, customer__in=ids)
                 .values_list("customer", "text"))
    names = display_names(ids)
    rows = []
    for identity, signals in seen.items():
        step = _stage(signals, orders.get(identity, 0), identity in buyers)
        rows.append(PersonRow(
            ref=ref_of(distributor, identity), name=names[identity], stage=step, stage_name=str(STAGES[step]),
            next_step=str(NEXT_STEPS[step]), bound=bool(signals.get("bound")), orders=orders.get(identity, 0),
            clicks=signals.get("clicks", 0), lives_watched=signals.get("watched", 0),
            questions=signals.get("asked", 0), last_seen=signals.get("last"), tags=tags.get(identity, []),
            note=notes.get(identity, "")))
    rows = [r for r in rows if (not stage or r.stage == stage) and (not tag or tag in r.tags)]
    epoch = datetime.min.replace(tzinfo=dt_timezone.utc)
    return sorted(rows, key=lambda r: (r.last_seen or epoch, r.ref), reverse=True)[:PEOPLE_SHOWN]


def person(distributor: str, ref: str) -> str:
    """The identity `ref` stands for among the distributor's own people; ServiceError for anyone else."""
    for identity in _signals(distributor):
        if ref_of(distributor, identity) == ref:
            return identity
    raise ServiceError("person", "NOT_YOUR_CUSTOMER", _("this person is not one of your customers or prospects"))


def clean_tag(tag: str) -> str:
    tag = " ".join(tag.split())
    if not tag or len(tag) > TAG_MAX or _UNPRINTABLE.search(tag):
        raise ServiceError("tag", "INVALID", _("a tag is 1 to %(n)d printable characters") % {"n": TAG_MAX})
    return tag


def add_tag(distributor: str, ref: str, tag: str) -> CustomerTag:
    identity, tag = person(distributor, ref), clean_tag(tag)
    with transaction.atomic():
        existing = CustomerTag.objects.select_for_update().filter(distributor=distributor, customer=identity)
        if any(t.tag == tag for t in existing):
            raise ServiceError("tag", "ALREADY_TAGGED", _("this person has that tag already"))
        if len(existing) >= TAGS_PER_PERSON:
            raise ServiceError("tag", "TOO_MANY", _("a person has at most %(n)d tags") % {"n": TAGS_PER_PERSON})
        try:
            with transaction.atomic():
                return CustomerTag.objects.create(distributor=distributor, customer=identity, tag=tag)
        except IntegrityError:  # the same tag added at the same moment from another page
            raise ServiceError("tag", "ALREADY_TAGGED", _("this person has that tag already")) from None


def remove_tag(distributor: str, ref: str, tag: str) -> None:
    identity = person(distributor, ref)
    if not CustomerTag.objects.filter(distributor=distributor, customer=identity, tag=tag).delete()[0]:
        raise ServiceError("tag", "NOT_FOUND", _("this person has no tag %(tag)r") % {"tag": tag})


def save_note(distributor: str, ref: str, text: str) -> CustomerNote | None:
    """The distributor's note on the person, replaced; an empty text removes it."""
    identity, text = person(distributor, ref), text.strip()
    if len(text) > NOTE_MAX or "\x00" in text:
        raise ServiceError("note", "INVALID", _("a note is at most %(n)d characters") % {"n": NOTE_MAX})
    if not text:
        CustomerNote.objects.filter(distributor=distributor, customer=identity).delete()
        return None
    note, _created = CustomerNote.objects.update_or_create(
        distributor=distributor, customer=identity, defaults={"text": text, "updated_at": timezone.now()})
    return note


def tags_of(distributor: str) -> list[str]:
    return sorted(set(CustomerTag.objects.filter(distributor=distributor).values_list("tag", flat=True)))
