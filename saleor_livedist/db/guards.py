"""The Store's guards on PostgreSQL: who is known to be a customer, each distributor's invitees per day, and the
invitees held past the daily limit. Part of DbStore (store.py), which declares the unit of work's state."""
from __future__ import annotations

from datetime import date

from .. import models as m
from ..core.records import HeldInvitee
from .rows import MISSING, any_of, upsert

HELD_COLUMNS = ["key", "task", "scope_key", "invitee", "inviter", "live", "order", "at", "status", "reviewed_at"]


class GuardTables:
    _customers: dict[str, bool]
    _new_customers: list[str]
    _invitee_days: dict[tuple[str, date], int]  # the day's count, with this unit of work's additions
    _invitee_deltas: dict[tuple[str, date], int]
    _held: dict[str, HeldInvitee | None]
    _dirty_held: dict[str, None]

    def _init_guards(self) -> None:
        self._customers, self._new_customers = {}, []
        self._invitee_days, self._invitee_deltas = {}, {}
        self._held, self._dirty_held = {}, {}

    def _prefetch_customers(self, people: set[str]) -> None:
        for identity in people:
            self._customers.setdefault(identity, False)
        for identity in m.Customer.objects.filter(any_of("identity", people)).values_list("identity", flat=True):
            self._customers[identity] = True

    def mark_customer(self, identity: str) -> None:
        if not self.is_customer(identity):
            self._customers[identity] = True
            self._new_customers.append(identity)

    def is_customer(self, identity: str) -> bool:
        known = self._customers.get(identity)
        if known is None:
            known = self._customers[identity] = m.Customer.objects.filter(identity=identity).exists()
        return known

    def count_invitee(self, distributor: str, day: date) -> int:
        key = (distributor, day)
        if key not in self._invitee_days:
            row = m.InviteeDay.objects.filter(distributor=distributor, day=day).values_list("count", flat=True).first()
            self._invitee_days[key] = row or 0
        self._invitee_days[key] += 1
        self._invitee_deltas[key] = self._invitee_deltas.get(key, 0) + 1
        return self._invitee_days[key]

    def get_held_invitee(self, key: str) -> HeldInvitee | None:
        found = self._held.get(key, MISSING)
        if found is MISSING:
            row = m.HeldInvitee.objects.filter(key=key).first()
            found = self._held[key] = HeldInvitee(
                key=row.key, task=row.task, scope_key=row.scope_key, invitee=row.invitee, inviter=row.inviter,
                live=row.live, order=row.order, at=row.at, status=row.status, reviewed_at=row.reviewed_at,
            ) if row else None
        return found  # type: ignore[return-value]

    def put_held_invitee(self, held: HeldInvitee) -> None:
        self._held[held.key] = held
        self._dirty_held[held.key] = None

    def _flush_guards(self) -> None:
        if self._new_customers:
            upsert(m.Customer, ["identity"], [(i,) for i in self._new_customers], conflict=["identity"])
            self._new_customers = []
        if self._invitee_deltas:
            upsert(m.InviteeDay, ["distributor", "day", "count"],
                   [(d, day, n) for (d, day), n in self._invitee_deltas.items()], conflict=["distributor", "day"],
                   updates={"count": f'"{m.InviteeDay._meta.db_table}".count + EXCLUDED.count'})
            self._invitee_deltas = {}
        if self._dirty_held:
            rows = []
            for key in self._dirty_held:
                h = self._held[key]
                assert h is not None
                rows.append((h.key, h.task, h.scope_key, h.invitee, h.inviter, h.live, h.order, h.at, h.status,
                             h.reviewed_at))
            upsert(m.HeldInvitee, HELD_COLUMNS, rows, conflict=["key"])
            self._dirty_held = {}
