"""The Store's people on PostgreSQL: identities stitched together, clicks, bindings, distributors. Part of
DbStore (store.py), which declares the unit of work's state and loads a batch's rows ahead."""
from __future__ import annotations

from bisect import insort
from collections.abc import Iterable
from copy import copy

from .. import models as m
from ..core.records import BanMark, BindingRecord, Click, DistributorRecord
from ..core.store import ban_order
from .rows import MISSING, any_of, binding_of, click_time, distributor_of, ranks_to_json, upsert


class PeopleTables:
    def resolve(self, identity: str) -> str:
        customer = self._alias.get(identity, MISSING)
        if customer is MISSING:
            row = m.Alias.objects.filter(visitor=identity).values_list("customer", flat=True).first()
            self._alias[identity] = customer = row
        return customer or identity  # type: ignore[return-value]

    def link_identity(self, visitor: str, customer: str) -> None:
        if visitor == customer or self.resolve(visitor) == customer:
            return
        aliases = self._aliases(customer)
        self._alias[visitor] = customer
        self._new_alias[visitor] = (customer, len(aliases))
        aliases.append(visitor)

    def _aliases(self, customer: str) -> list[str]:
        if customer not in self._aliases_of:
            self._flush_aliases()
            self._aliases_of[customer] = list(m.Alias.objects.filter(customer=customer).order_by("position", "visitor")
                                              .values_list("visitor", flat=True))
        return self._aliases_of[customer]

    def _own(self, identity: str) -> list[Click]:
        if identity not in self._own_clicks:
            self._flush_clicks()
            self._own_clicks[identity] = [
                Click(at=r.at, distributor=r.distributor, kind=r.kind, target=r.target)
                for r in m.Click.objects.filter(identity=identity).order_by("at", "id")
            ]
        return self._own_clicks[identity]

    def add_click(self, identity: str, click: Click) -> None:
        insort(self._own(identity), click, key=click_time)  # after clicks at the same time: arrival order
        self._new_clicks.append((identity, click))

    def clicks(self, identity: str) -> list[Click]:
        found = list(self._own(identity))
        aliases = self._aliases(identity)
        if aliases:
            for alias in aliases:
                found.extend(self._own(alias))
            found.sort(key=click_time)  # stable: the identity's own clicks first on equal times
        return found

    def get_binding(self, identity: str) -> BindingRecord | None:
        found = self._bindings.get(identity, MISSING)
        if found is MISSING:
            row = m.Binding.objects.filter(identity=identity).first()
            self._bindings[identity] = found = binding_of(row) if row else None
        return found  # type: ignore[return-value]

    def put_binding(self, binding: BindingRecord) -> None:
        self._bindings[binding.identity] = binding
        self._dirty_bindings[binding.identity] = None

    def drop_binding(self, identity: str) -> None:
        self._bindings[identity] = None
        self._dirty_bindings[identity] = None

    def get_distributor(self, distributor_id: str) -> DistributorRecord | None:
        found = self._distributors.get(distributor_id, MISSING)
        if found is MISSING:
            self._load_distributors({distributor_id}, depth=3)
            found = self._distributors[distributor_id]
        if found is None:
            return None
        record = copy(found)
        record.ranks = list(found.ranks)
        return record

    def put_distributor(self, record: DistributorRecord) -> None:
        self._distributors[record.id] = record
        self._dirty_distributors[record.id] = None

    def distributors(self) -> Iterable[DistributorRecord]:
        self._flush_distributors()
        return [distributor_of(r) for r in m.Distributor.objects.order_by("id")]

    def _flush_aliases(self) -> None:
        if self._new_alias:
            upsert(m.Alias, ["visitor", "customer", "position"],
                   [(v, c, n) for v, (c, n) in self._new_alias.items()], conflict=["visitor"])
            self._new_alias = {}

    def _flush_clicks(self) -> None:
        if self._new_clicks:
            upsert(m.Click, ["identity", "at", "distributor", "kind", "target"],
                   [(i, c.at, c.distributor, c.kind, c.target) for i, c in self._new_clicks])
            self._new_clicks = []

    def _flush_bindings(self) -> None:
        if not self._dirty_bindings:
            return
        keep = [b for i in self._dirty_bindings if (b := self._bindings.get(i)) is not None]
        drop = [i for i in self._dirty_bindings if self._bindings.get(i) is None]
        if drop:
            m.Binding.objects.filter(any_of("identity", drop)).delete()
        upsert(m.Binding, ["identity", "distributor", "at", "expires_at", "via"],
               [(b.identity, b.distributor, b.at, b.expires_at, b.via) for b in keep], conflict=["identity"])
        self._dirty_bindings = {}

    def _flush_distributors(self) -> None:
        if not self._dirty_distributors:
            return
        upsert(m.Distributor, ["id", "upline", "joined_at", "rank", "ranks", "last_sale_at", "paying_invitees"],
               [(d.id, d.upline, d.joined_at, d.rank, ranks_to_json(d.ranks), d.last_sale_at, d.paying_invitees)
                for i in self._dirty_distributors if (d := self._distributors[i]) is not None],
               conflict=["id"], json_columns=("ranks",))
        self._dirty_distributors = {}

    def ban_marks(self) -> dict[str, tuple[BanMark, ...]]:
        """All marks, read once per unit of work: a small table (one row per ban or unban staff made)."""
        if self._bans is None:
            marks: dict[str, list[BanMark]] = {}
            for r in m.BanMark.objects.order_by("at", "event"):
                marks.setdefault(r.distributor, []).append(
                    BanMark(distributor=r.distributor, at=r.at, event=r.event, banned=r.banned, reason=r.reason))
            self._bans = {who: tuple(found) for who, found in marks.items()}
        return self._bans

    def add_ban_mark(self, mark: BanMark) -> None:
        marks = self.ban_marks().get(mark.distributor, ())
        if any(known.event == mark.event for known in marks):
            return
        self._bans[mark.distributor] = tuple(sorted((*marks, mark), key=ban_order))  # type: ignore[index]
        self._new_bans.append(mark)

    def _flush_bans(self) -> None:
        if self._new_bans:
            upsert(m.BanMark, ["event", "distributor", "at", "banned", "reason"],
                   [(b.event, b.distributor, b.at, b.banned, b.reason) for b in self._new_bans], conflict=["event"])
            self._new_bans = []
