"""The Store's live room on PostgreSQL: lives, replays, watches, invite-task progress and qualified invitees,
the live's invitations and leaderboard figures. Part of DbStore (store.py), which declares the unit of work's
state and loads a batch's rows ahead."""
from __future__ import annotations

from copy import copy
from decimal import Decimal

from .. import models as m
from ..core.money import round_money
from ..core.records import LiveRecord, LiveStat, ReplayRecord, TaskProgress, WatchRecord
from .rows import MISSING, plain, update_from, upsert


class LiveRoomTables:
    def get_live(self, live_id: str) -> LiveRecord | None:
        found = self._lives.get(live_id, MISSING)
        if found is MISSING:
            row = m.Live.objects.filter(id=live_id).first()
            self._lives[live_id] = found = self._live_record(row) if row else None
        return copy(found) if found is not None else None

    def put_live(self, record: LiveRecord) -> None:
        self._lives[record.id] = record
        self._dirty_lives[record.id] = None

    def get_replay(self, replay_id: str) -> ReplayRecord | None:
        found = self._replays.get(replay_id, MISSING)
        if found is MISSING:
            row = m.Replay.objects.filter(id=replay_id).first()
            found = ReplayRecord(id=row.id, live=row.live, available_from=row.available_from, until=row.until) \
                if row else None
            self._replays[replay_id] = found
        return found  # type: ignore[return-value]

    def put_replay(self, record: ReplayRecord) -> None:
        self._replays[record.id] = record
        self._dirty_replays[record.id] = None

    def get_watch(self, live_id: str, viewer: str) -> WatchRecord | None:
        key = (live_id, viewer)
        found = self._watches.get(key, MISSING)
        if found is MISSING:
            row = m.Watch.objects.filter(live=live_id, viewer=viewer).first()
            found = WatchRecord(live=row.live, viewer=row.viewer, open_count=row.open_count,
                                active_since=row.active_since, seconds=row.seconds,
                                last_seen=row.last_seen, until=row.until, spans=tuple(row.spans)) if row else None
            self._watches[key] = found
        return copy(found) if found is not None else None

    def put_watch(self, record: WatchRecord) -> None:
        key = (record.live, record.viewer)
        if self._watches.get(key) is None and record.viewer in self._watched:
            if record.live not in self._watched[record.viewer]:
                self._watched[record.viewer].append(record.live)
        self._watches[key] = record
        self._dirty_watches[key] = None

    def open_watches(self, live_id: str) -> list[WatchRecord]:
        self._flush_watches()
        rows = m.Watch.objects.filter(live=live_id, open_count__gt=0).order_by("viewer")
        return [self.get_watch(r.live, r.viewer) for r in rows]  # type: ignore[misc]

    def lives_watched(self, viewer: str) -> list[str]:
        if viewer not in self._watched:
            self._flush_watches()
            self._watched[viewer] = list(m.Watch.objects.filter(viewer=viewer).order_by("id")
                                         .values_list("live", flat=True))
        return list(self._watched[viewer])

    def get_task_progress(self, task: str, distributor: str, scope_key: str) -> TaskProgress | None:
        key = (task, distributor, scope_key)
        found = self._progress.get(key, MISSING)
        if found is MISSING:
            row = m.TaskProgress.objects.filter(task=task, distributor=distributor, scope_key=scope_key).first()
            found = TaskProgress(task=row.task, distributor=row.distributor, scope_key=row.scope_key,
                                 qualified=row.qualified, completed_at=row.completed_at) if row else None
            self._progress[key] = found
        return copy(found) if found is not None else None

    def put_task_progress(self, record: TaskProgress) -> None:
        key = (record.task, record.distributor, record.scope_key)
        self._progress[key] = record
        self._dirty_progress[key] = None
        if record.completed_at is not None and record.distributor in self._completed:
            done = self._completed[record.distributor]
            if not any((p.task, p.scope_key) == (record.task, record.scope_key) for p in done):
                done.append(record)

    def completed_tasks(self, distributor: str) -> list[TaskProgress]:
        if distributor not in self._completed:
            self._flush_progress()
            self._completed[distributor] = [
                TaskProgress(task=r.task, distributor=r.distributor, scope_key=r.scope_key, qualified=r.qualified,
                             completed_at=r.completed_at)
                for r in m.TaskProgress.objects.filter(distributor=distributor, completed_at__isnull=False)
                .order_by("completed_at", "id")
            ]
        return self._completed[distributor]

    def add_qualified(self, task: str, scope_key: str, invitee: str) -> bool:
        key = (task, scope_key, invitee)
        known = self._qualified.get(key)
        if known is None and invitee not in self._qualified_known:  # (prefetched invitees: absent means no)
            known = m.QualifiedInvitee.objects.filter(task=task, scope_key=scope_key, invitee=invitee).exists()
        if known:
            self._qualified[key] = True
            return False
        self._qualified[key] = True
        self._new_qualified.append(key)
        return True

    def qualifications(self, invitee: str) -> list[tuple[str, str]]:
        self._flush_qualified()
        return list(m.QualifiedInvitee.objects.filter(invitee=invitee).order_by("task", "scope_key")
                    .values_list("task", "scope_key"))

    def add_live_invitation(self, live: str, distributor: str, viewer: str) -> bool:
        key = (live, distributor, viewer)
        known = self._invitations.get(key)
        if known is None and (live, viewer) not in self._invitations_known:  # (prefetched: absent means no)
            known = m.LiveInvitation.objects.filter(live=live, distributor=distributor, viewer=viewer).exists()
        self._invitations[key] = True
        if known:
            return False
        self._new_invitations.append(key)
        return True

    def invitations(self, viewer: str) -> list[tuple[str, str]]:
        self._flush_live_stats()
        return list(m.LiveInvitation.objects.filter(viewer=viewer).order_by("id")
                    .values_list("live", "distributor"))

    def add_live_qualified(self, live: str, viewer: str) -> bool:
        key = (live, viewer)
        known = self._live_qualified.get(key)
        if known is None:
            known = m.LiveQualifiedViewer.objects.filter(live=live, viewer=viewer).exists()
        self._live_qualified[key] = True
        if known:
            return False
        self._new_live_qualified.append(key)
        return True

    def is_live_qualified(self, live: str, viewer: str) -> bool:
        known = self._live_qualified.get((live, viewer))
        if known is None:
            known = self._live_qualified[(live, viewer)] = m.LiveQualifiedViewer.objects.filter(
                live=live, viewer=viewer).exists()
        return known

    def bump_live_stat(self, live: str, distributor: str, invited: int = 0, qualified: int = 0, orders: int = 0,
                       gmv: Decimal = Decimal(0), currency: str = "") -> None:
        delta = self._stat_deltas.setdefault((live, distributor), [0, 0, 0, Decimal(0), ""])
        delta[0] += invited
        delta[1] += qualified
        delta[2] += orders
        delta[3] += gmv
        delta[4] = delta[4] or currency

    def live_stats(self, live: str) -> list[LiveStat]:
        self._flush_live_stats()
        return [
            LiveStat(live=r.live, distributor=r.distributor, invited=r.invited, qualified=r.qualified,
                     orders=r.orders, gmv=round_money(r.gmv, r.currency) if r.currency else plain(r.gmv),
                     currency=r.currency)
            for r in m.LiveStat.objects.filter(live=live).order_by("distributor")
        ]

    @staticmethod
    def _live_record(row: m.Live) -> LiveRecord:
        return LiveRecord(id=row.id, starts_at=row.starts_at, products=frozenset(row.products), host=row.host,
                          started_at=row.started_at, ended_at=row.ended_at)

    def _flush_lives(self) -> None:
        if self._dirty_lives:
            m.Live.objects.bulk_create(
                [m.Live(id=v.id, starts_at=v.starts_at, products=sorted(v.products), host=v.host,
                        started_at=v.started_at, ended_at=v.ended_at)
                 for i in self._dirty_lives if (v := self._lives[i]) is not None],
                update_conflicts=True, unique_fields=["id"],
                update_fields=["starts_at", "products", "host", "started_at", "ended_at"],
            )
            self._dirty_lives = {}
        if self._dirty_replays:
            m.Replay.objects.bulk_create(
                [m.Replay(id=r.id, live=r.live, available_from=r.available_from, until=r.until)
                 for i in self._dirty_replays if (r := self._replays[i]) is not None],
                update_conflicts=True, unique_fields=["id"], update_fields=["live", "available_from", "until"],
            )
            self._dirty_replays = {}

    def _flush_watches(self) -> None:
        if not self._dirty_watches:
            return
        m.Watch.objects.bulk_create(
            [m.Watch(live=w.live, viewer=w.viewer, open_count=w.open_count, active_since=w.active_since,
                     seconds=w.seconds, last_seen=w.last_seen, until=w.until, spans=list(w.spans))
             for k in self._dirty_watches if (w := self._watches[k]) is not None],
            update_conflicts=True, unique_fields=["live", "viewer"],
            update_fields=["open_count", "active_since", "seconds", "last_seen", "until", "spans"],
        )
        self._dirty_watches = {}

    def _flush_progress(self) -> None:
        if not self._dirty_progress:
            return
        m.TaskProgress.objects.bulk_create(
            [m.TaskProgress(task=p.task, distributor=p.distributor, scope_key=p.scope_key, qualified=p.qualified,
                            completed_at=p.completed_at)
             for k in self._dirty_progress if (p := self._progress[k]) is not None],
            update_conflicts=True, unique_fields=["task", "distributor", "scope_key"],
            update_fields=["qualified", "completed_at"],
        )
        self._dirty_progress = {}

    def _flush_live_stats(self) -> None:
        if self._new_invitations:
            upsert(m.LiveInvitation, ["live", "distributor", "viewer"], self._new_invitations)
            self._new_invitations = []
        if self._new_live_qualified:
            upsert(m.LiveQualifiedViewer, ["live", "viewer"], self._new_live_qualified)
            self._new_live_qualified = []
        if self._stat_deltas:
            rows = [(live, who, *delta) for (live, who), delta in self._stat_deltas.items()]
            table = m.LiveStat._meta.db_table
            # A negative delta (the same person counted twice, taken back) has its row already, and would fail
            # the columns' checks as a proposed insert: an update.
            fewer = [r for r in rows if min(r[2], r[3], r[4]) < 0]
            more = [r for r in rows if min(r[2], r[3], r[4]) >= 0]
            columns = ["live", "distributor", "invited", "qualified", "orders", "gmv", "currency"]
            upsert(m.LiveStat, columns, more, conflict=["live", "distributor"], updates={
                "invited": f'"{table}".invited + EXCLUDED.invited',
                "qualified": f'"{table}".qualified + EXCLUDED.qualified',
                "orders": f'"{table}".orders + EXCLUDED.orders', "gmv": f'"{table}".gmv + EXCLUDED.gmv',
                "currency": f'COALESCE(NULLIF("{table}".currency, \'\'), EXCLUDED.currency)'})
            update_from(m.LiveStat, columns[:6], ["live", "distributor"], {
                "invited": f'GREATEST(0, "{table}".invited + u.invited)',
                "qualified": f'GREATEST(0, "{table}".qualified + u.qualified)',
                "orders": f'GREATEST(0, "{table}".orders + u.orders)', "gmv": f'"{table}".gmv + u.gmv'},
                [r[:6] for r in fewer])
            self._stat_deltas = {}

    def _flush_qualified(self) -> None:
        if self._new_qualified:
            m.QualifiedInvitee.objects.bulk_create(
                [m.QualifiedInvitee(task=t, scope_key=s, invitee=i) for t, s, i in self._new_qualified])
            self._new_qualified = []
