"""PostgreSQL tables for everything the engine keeps, plus the inbox of events and the rule versions.

Identities (customers, visitors, distributors) are strings: `user:<pk>` for accounts, `guest:<email>` for
guest checkouts, signed visitor ids for anonymous viewers. The engine's tables are written only by the
engine (through saleor_livedist.db.store.DbStore), one batch of events per transaction.
"""
from __future__ import annotations

from django.db import models
from django.db.models.fields.json import KeyTextTransform
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

ID = 255  # max length of any identifier we store


class InboxEvent(models.Model):
    """An event handed off by a hook or endpoint, waiting to be processed. Never deleted by processing: a
    failed event stays here, visible in the admin, until it is re-run."""

    PENDING, DONE, FAILED = "pending", "done", "failed"

    event_id = models.CharField(_("event ID"), max_length=ID, unique=True)
    type = models.CharField(_("type"), max_length=64)
    at = models.DateTimeField(_("event time"))
    payload = models.JSONField(_("payload"))
    received_at = models.DateTimeField(_("received at"), default=timezone.now, db_index=True)
    status = models.CharField(
        _("status"), max_length=16, default=PENDING, db_index=True,
        choices=[(PENDING, _("pending")), (DONE, _("done")), (FAILED, _("failed"))],
    )
    attempts = models.PositiveIntegerField(_("attempts"), default=0)
    next_attempt_at = models.DateTimeField(_("next attempt at"), null=True, blank=True)  # backoff after a failure
    error = models.TextField(_("error"), blank=True)
    processed_at = models.DateTimeField(_("processed at"), null=True, blank=True)
    # Partitioned processing (settings.PARTITIONS > 1; saleor_livedist.inbox.routing): the submit order, the
    # partition whose worker applies it, and whether it is a barrier (applied with every partition's lock).
    # An event not routed (kept with one partition, before partitions existed, or by a writer that does not
    # route) has no seq and is a barrier: with several partitions it is applied first, under the whole lock.
    seq = models.BigIntegerField(_("sequence"), null=True, blank=True)
    partition = models.PositiveIntegerField(_("partition"), default=0, db_default=0)
    barrier = models.BooleanField(_("barrier"), default=True, db_default=True)
    routed = models.BooleanField(_("routed"), default=False, db_default=False)  # its identities are joined

    class Meta:
        verbose_name = _("event")
        verbose_name_plural = _("events")
        db_table = "livedist_inbox"
        indexes = [
            models.Index(fields=["status", "received_at"], name="livedist_inbox_pending"),
            models.Index(fields=["partition", "seq"], name="livedist_inbox_partition",
                         condition=models.Q(status="pending")),
            models.Index(fields=["seq", "received_at", "id"], name="livedist_inbox_seq",
                         condition=models.Q(status="pending")),
            models.Index(fields=["seq"], name="livedist_inbox_barrier",
                         condition=models.Q(status="pending", barrier=True)),
            models.Index(fields=["id"], name="livedist_inbox_unrouted", condition=models.Q(routed=False)),
            # the console finds an order's events
            models.Index(KeyTextTransform("order", "payload"), name="livedist_inbox_order"),
        ]

    def __str__(self) -> str:
        return f"{self.type} {self.event_id}"


class RouteComponent(models.Model):
    """A set of identities (people, distributors, orders, a live's host) whose events can touch the same state:
    a component of the routing's union-find, kept on one partition (saleor_livedist.inbox.routing)."""

    partition = models.PositiveIntegerField()
    size = models.PositiveIntegerField(default=0)

    class Meta:
        db_table = "livedist_route_component"


class RouteKey(models.Model):
    """One identity's component: `p:<person or distributor>`, `o:<order>`, `h:<live>` (its host)."""

    key = models.TextField(primary_key=True)
    component = models.BigIntegerField(db_index=True)

    class Meta:
        db_table = "livedist_route_key"


class ProcessedEvent(models.Model):
    event_id = models.CharField(max_length=ID, primary_key=True)

    class Meta:
        db_table = "livedist_processed_event"


class Alias(models.Model):
    """A visitor id stitched to a customer."""

    visitor = models.CharField(max_length=ID, primary_key=True)
    customer = models.CharField(max_length=ID, db_index=True)
    position = models.PositiveIntegerField(default=0)  # the customer's visitor ids in the order they were linked

    class Meta:
        db_table = "livedist_alias"


class Click(models.Model):
    identity = models.CharField(max_length=ID)
    at = models.DateTimeField()
    distributor = models.CharField(max_length=ID)
    kind = models.CharField(max_length=16)
    target = models.CharField(max_length=ID)

    class Meta:
        db_table = "livedist_click"
        indexes = [models.Index(fields=["identity", "at"], name="livedist_click_identity"),
                   models.Index(fields=["kind", "target"], name="livedist_click_target"),  # a live's clicks (reports)
                   models.Index(fields=["distributor", "at"], name="livedist_click_distributor")]  # the center


class Binding(models.Model):
    identity = models.CharField(_("customer"), max_length=ID, primary_key=True)
    distributor = models.CharField(_("distributor"), max_length=ID, db_index=True)
    at = models.DateTimeField(_("bound at"))
    expires_at = models.DateTimeField(_("expires at"), null=True, blank=True)
    via = models.CharField(_("bound via"), max_length=16)

    class Meta:
        verbose_name = _("binding")
        verbose_name_plural = _("bindings")
        db_table = "livedist_binding"


class Distributor(models.Model):
    id = models.CharField(_("identity"), max_length=ID, primary_key=True)
    upline = models.CharField(_("upline"), max_length=ID, null=True, blank=True, db_index=True)
    joined_at = models.DateTimeField(_("joined at"))
    rank = models.CharField(_("rank"), max_length=64)  # the current rank, for listing and filtering
    ranks = models.JSONField(_("ranks"), )  # [[since, rank], ...] oldest first
    last_sale_at = models.DateTimeField(_("last sale at"), null=True, blank=True)
    paying_invitees = models.PositiveIntegerField(_("paying invitees"), default=0)

    class Meta:
        verbose_name = _("distributor")
        verbose_name_plural = _("distributors")
        db_table = "livedist_distributor"

    def __str__(self) -> str:
        return self.id


class DistributorBan(models.Model):
    """A distributor staff banned: they create no share links and their links record no clicks until unbanned.
    The engine hears of it as an event (BanMark): orders paid meanwhile pay them nothing. Commissions already
    booked are left as they are (reverse them with the order, as for any order)."""

    distributor = models.CharField(max_length=ID, primary_key=True)
    reason = models.CharField(max_length=500)
    banned_by = models.CharField(max_length=ID, blank=True)
    banned_at = models.DateTimeField(default=timezone.now)

    class Meta:
        db_table = "livedist_distributor_ban"


class BanMark(models.Model):
    """The engine's record of a ban or unban (a distributor.banned / distributor.unbanned event): whether a
    distributor was banned at a given time, for the ledger (docs/rules.md, "Banned distributors")."""

    event = models.CharField(max_length=ID, primary_key=True)
    distributor = models.CharField(max_length=ID, db_index=True)
    at = models.DateTimeField()
    banned = models.BooleanField()
    reason = models.CharField(max_length=500, blank=True)

    class Meta:
        db_table = "livedist_ban_mark"


class Live(models.Model):
    id = models.CharField(max_length=ID, primary_key=True)
    starts_at = models.DateTimeField(null=True, blank=True)
    products = models.JSONField(default=list)
    host = models.CharField(max_length=ID, null=True, blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    ended_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        db_table = "livedist_live"


class Replay(models.Model):
    id = models.CharField(max_length=ID, primary_key=True)
    live = models.CharField(max_length=ID, db_index=True)
    available_from = models.DateTimeField()
    until = models.DateTimeField(null=True, blank=True)

    class Meta:
        db_table = "livedist_replay"


class Watch(models.Model):
    live = models.CharField(max_length=ID)
    viewer = models.CharField(max_length=ID, db_index=True)
    open_count = models.IntegerField(default=0)
    active_since = models.DateTimeField(null=True, blank=True)
    seconds = models.FloatField(default=0)
    last_seen = models.DateTimeField(null=True, blank=True)
    until = models.DateTimeField(null=True, blank=True)  # a closed watch: the time it was counted up to
    spans = models.JSONField(default=list, blank=True)  # counted intervals, POSIX seconds [start, end, ...]

    class Meta:
        db_table = "livedist_watch"
        constraints = [models.UniqueConstraint(fields=["live", "viewer"], name="livedist_watch_unique")]


class TaskProgress(models.Model):
    task = models.CharField(max_length=ID)
    distributor = models.CharField(max_length=ID, db_index=True)
    scope_key = models.CharField(max_length=ID, blank=True)
    qualified = models.PositiveIntegerField(default=0)
    completed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        db_table = "livedist_task_progress"
        constraints = [
            models.UniqueConstraint(fields=["task", "distributor", "scope_key"], name="livedist_progress_unique"),
        ]


class QualifiedInvitee(models.Model):
    task = models.CharField(max_length=ID)
    scope_key = models.CharField(max_length=ID, blank=True)
    invitee = models.CharField(max_length=ID, db_index=True)

    class Meta:
        db_table = "livedist_qualified"
        constraints = [
            models.UniqueConstraint(fields=["task", "scope_key", "invitee"], name="livedist_qualified_unique"),
        ]


class Customer(models.Model):
    """A person the engine knows is a customer (an account, a signed-in viewer, an order): who may count as an
    invitee under the rules' default guards.invitees: customers."""

    identity = models.CharField(max_length=ID, primary_key=True)

    class Meta:
        db_table = "livedist_customer"


class InviteeDay(models.Model):
    """Task qualifications a distributor's invitees earned on one day (guards.invitees_per_distributor_per_day)."""

    distributor = models.CharField(max_length=ID)
    day = models.DateField()
    count = models.PositiveIntegerField(default=0)

    class Meta:
        db_table = "livedist_invitee_day"
        constraints = [models.UniqueConstraint(fields=["distributor", "day"], name="livedist_invitee_day_unique")]


class HeldInvitee(models.Model):
    """A task qualification past the daily invitee limit: it counts for the distributor once staff approve it."""

    STATUSES = [("held", _("held")), ("approved", _("approved")), ("rejected", _("rejected"))]

    key = models.CharField(_("key"), max_length=ID * 2, primary_key=True)  # task:<task>:<scope>:<invitee>
    task = models.CharField(_("task"), max_length=ID)
    scope_key = models.CharField(_("scope"), max_length=ID, blank=True)
    invitee = models.CharField(_("invitee"), max_length=ID)
    inviter = models.CharField(_("inviter"), max_length=ID, db_index=True)
    live = models.CharField(_("live"), max_length=ID, null=True, blank=True)
    order = models.CharField(_("order"), max_length=ID, null=True, blank=True)  # the qualifying paid order
    at = models.DateTimeField(_("at"))
    status = models.CharField(_("status"), max_length=16, choices=STATUSES, default="held")
    reviewed_at = models.DateTimeField(_("reviewed at"), null=True, blank=True)

    class Meta:
        verbose_name = _("held invitee")
        verbose_name_plural = _("held invitees")
        db_table = "livedist_held_invitee"
        ordering = ["at", "key"]
        indexes = [models.Index(fields=["status", "at"], name="livedist_held_status")]

    def __str__(self) -> str:
        return f"{self.invitee} for {self.inviter} ({self.task}, {self.status})"


class PayingCustomer(models.Model):
    """A customer with a paid order, and their latest paid order (what qualifies them for 'ordered' tasks)."""

    customer = models.CharField(max_length=ID, primary_key=True)
    order = models.CharField(max_length=ID, blank=True, default="")
    order_at = models.DateTimeField(null=True, blank=True)  # when that order was placed
    live = models.CharField(max_length=ID, null=True, blank=True)  # the live that order came from, if any

    class Meta:
        db_table = "livedist_paying_customer"


class Order(models.Model):
    id = models.CharField(max_length=ID, primary_key=True)
    customer = models.CharField(max_length=ID, blank=True, db_index=True)
    snapshot = models.JSONField(null=True, blank=True)  # priced lines and attribution, fixed at creation
    lifecycle = models.JSONField(default=list)
    paid_at = models.DateTimeField(null=True, blank=True)
    approve_at = models.DateTimeField(null=True, blank=True)
    has_pending = models.BooleanField(default=False)
    rewards = models.JSONField(default=list)  # task cash booked on this order: [{key, beneficiary, ...}, ...]
    # What the order counts for on its live's leaderboard (LiveStat) now: 1 paid order or 0, and the amount kept.
    board_orders = models.PositiveSmallIntegerField(default=0)
    board_gmv = models.DecimalField(max_digits=20, decimal_places=4, default=0)

    class Meta:
        db_table = "livedist_order"
        indexes = [models.Index(fields=["has_pending", "approve_at"], name="livedist_order_due")]


class LedgerEntry(models.Model):
    STATUSES = [("pending", _("pending")), ("approved", _("approved")), ("reversed", _("reversed"))]

    id = models.CharField(_("ID"), max_length=ID * 2, primary_key=True)
    order = models.CharField(_("order"), max_length=ID, db_index=True)
    line = models.CharField(_("line"), max_length=ID)
    beneficiary = models.CharField(_("beneficiary"), max_length=ID, db_index=True)
    kind = models.CharField(_("kind"), max_length=16)
    level = models.PositiveSmallIntegerField(_("level"))
    amount = models.DecimalField(_("amount"), max_digits=20, decimal_places=4)
    currency = models.CharField(_("currency"), max_length=3)
    status = models.CharField(_("status"), max_length=16, choices=STATUSES)
    percent = models.DecimalField(_("percent"), max_digits=9, decimal_places=4)
    rule_ids = models.JSONField(_("rule IDs"))
    rules_version = models.CharField(_("rules version"), max_length=64)
    at = models.DateTimeField(_("at"))
    seq = models.PositiveIntegerField(_("position"), default=0)  # position within the order's entries

    class Meta:
        verbose_name = _("ledger entry")
        verbose_name_plural = _("ledger entries")
        db_table = "livedist_ledger_entry"
        ordering = ["at", "order", "seq"]
        indexes = [  # the console's ledger: newest first, and by rules version
            models.Index(fields=["at", "order", "seq"], name="livedist_ledger_at"),
            models.Index(fields=["rules_version", "at"], name="livedist_ledger_version"),
        ]


class PointsGrant(models.Model):
    key = models.CharField(_("key"), max_length=ID * 2, primary_key=True)
    beneficiary = models.CharField(_("beneficiary"), max_length=ID, db_index=True)
    points = models.IntegerField(_("points"))
    reason = models.CharField(_("reason"), max_length=ID)
    rule_ids = models.JSONField(_("rule IDs"))
    rules_version = models.CharField(_("rules version"), max_length=64)
    at = models.DateTimeField(_("at"))
    live = models.CharField(_("live"), max_length=ID, null=True, blank=True)
    invitee = models.CharField(_("invitee"), max_length=ID, null=True, blank=True)

    class Meta:
        verbose_name = _("points grant")
        verbose_name_plural = _("points grants")
        db_table = "livedist_points_grant"
        ordering = ["at", "key"]


class PoolRun(models.Model):
    """One pool bonus paid for one period: the unique key makes it once, however often (or concurrently) the
    period is run. Its shares are ledger entries of kind pool_bonus whose order is `pool:<pool>:<period>`."""

    pool = models.CharField(_("pool"), max_length=100)
    period = models.CharField(_("period"), max_length=16)  # 2026-11 or 2026-W48
    starts_at = models.DateTimeField(_("starts at"))
    ends_at = models.DateTimeField(_("ends at"))
    rules_version = models.CharField(_("rules version"), max_length=64)
    totals = models.JSONField(_("totals"), default=dict)  # {currency: {gmv, pool, paid, sharers}}
    ran_at = models.DateTimeField(_("ran at"), default=timezone.now)

    class Meta:
        verbose_name = _("pool run")
        verbose_name_plural = _("pool runs")
        db_table = "livedist_pool_run"
        ordering = ["-ends_at", "pool"]
        constraints = [models.UniqueConstraint(fields=["pool", "period"], name="livedist_pool_run_once")]


class RuleVersion(models.Model):
    """Every rules version this store has seen, with the files' text, so past results can be explained and
    replayed; rejected changes are kept with their problems."""

    version = models.CharField(_("version"), max_length=64, primary_key=True)
    files = models.JSONField(_("files"))  # {name: text}
    first_seen = models.DateTimeField(_("first seen"), default=timezone.now)
    active = models.BooleanField(_("active"), default=False)
    problems = models.JSONField(_("problems"), default=list)  # for a rejected change: [str, ...]

    class Meta:
        verbose_name = _("rule version")
        verbose_name_plural = _("rule versions")
        db_table = "livedist_rule_version"
        ordering = ["-first_seen"]


class ShareLink(models.Model):
    """A share link a distributor created (the token itself is signed and verifiable without this row)."""

    token = models.CharField(max_length=512, unique=True)
    distributor = models.CharField(max_length=ID, db_index=True)
    kind = models.CharField(max_length=16)
    target = models.CharField(max_length=ID)
    created_at = models.DateTimeField(default=timezone.now)
    clicks = models.PositiveIntegerField(default=0)

    class Meta:
        db_table = "livedist_share_link"
        ordering = ["-created_at"]


# ---------------------------------------------------------------------- the live room (edited by staff)


class LiveSession(models.Model):
    """A live session as staff schedule and run it. Starting and ending it hands `live.started` /
    `live.ended` to the engine, so live rates and first-hour bonuses apply from that second."""

    SCHEDULED, LIVE, ENDED = "scheduled", "live", "ended"

    id = models.SlugField(_("ID"), max_length=100, primary_key=True)
    title = models.CharField(_("title"), max_length=255)
    host = models.CharField(_("host"), max_length=ID, blank=True, help_text=_("The host's identity, e.g. user:12."))
    channel = models.CharField(_("channel"), max_length=ID, blank=True, help_text=_("Saleor channel slug."))
    scheduled_start = models.DateTimeField(_("scheduled start"))
    actual_start = models.DateTimeField(_("actual start"), null=True, blank=True)
    actual_end = models.DateTimeField(_("actual end"), null=True, blank=True)
    status = models.CharField(_("status"), max_length=16, default=SCHEDULED,
                              choices=[(SCHEDULED, _("scheduled")), (LIVE, _("live")), (ENDED, _("ended"))])
    featured_products = models.JSONField(_("featured products"), default=list, blank=True,
                                         help_text=_("Product slugs featured on air."))
    stream_url = models.URLField(_("stream URL"), max_length=500, blank=True)
    reminder_offsets = models.JSONField(_("reminder offsets"), null=True, blank=True, help_text=_(
        "Minutes before the start to remind the invited, e.g. [30, 5]; empty: the REMINDER_OFFSETS setting."))
    created_at = models.DateTimeField(_("created at"), default=timezone.now)

    class Meta:
        verbose_name = _("live")
        verbose_name_plural = _("lives")
        db_table = "livedist_live_session"
        ordering = ["-scheduled_start"]

    def __str__(self) -> str:
        return f"{self.title} ({self.status})"


class LiveReplay(models.Model):
    id = models.SlugField(_("ID"), max_length=100, primary_key=True)
    live = models.ForeignKey(LiveSession, verbose_name=_("live"), on_delete=models.CASCADE, related_name="replays")
    url = models.URLField(_("URL"), max_length=500)
    available_from = models.DateTimeField(_("available from"), default=timezone.now)
    available_until = models.DateTimeField(_("available until"), null=True, blank=True)

    class Meta:
        verbose_name = _("replay")
        verbose_name_plural = _("replays")
        db_table = "livedist_live_replay"


class LiveClip(models.Model):
    """A segment of a live or of its replay, shareable like them."""

    id = models.SlugField(_("ID"), max_length=100, primary_key=True)
    live = models.ForeignKey(LiveSession, verbose_name=_("live"), on_delete=models.CASCADE, related_name="clips")
    replay = models.ForeignKey(LiveReplay, verbose_name=_("replay"), null=True, blank=True, on_delete=models.SET_NULL,
                               related_name="clips")
    title = models.CharField(_("title"), max_length=255, blank=True)
    start_seconds = models.PositiveIntegerField(_("start seconds"))
    end_seconds = models.PositiveIntegerField(_("end seconds"))
    url = models.URLField(_("URL"), max_length=500, blank=True)

    class Meta:
        verbose_name = _("clip")
        verbose_name_plural = _("clips")
        db_table = "livedist_live_clip"


class LiveStat(models.Model):
    """One distributor's standing in one live (the leaderboard), kept up to date by the engine."""

    live = models.CharField(max_length=ID)
    distributor = models.CharField(max_length=ID)
    invited = models.PositiveIntegerField(default=0)
    qualified = models.PositiveIntegerField(default=0)
    orders = models.PositiveIntegerField(default=0)
    gmv = models.DecimalField(max_digits=20, decimal_places=4, default=0)
    currency = models.CharField(max_length=3, blank=True)

    class Meta:
        db_table = "livedist_live_stat"
        constraints = [models.UniqueConstraint(fields=["live", "distributor"], name="livedist_live_stat_unique")]
        indexes = [models.Index(fields=["live", "-gmv"], name="livedist_live_stat_gmv")]


class LiveInvitation(models.Model):
    live = models.CharField(max_length=ID)
    distributor = models.CharField(max_length=ID)
    viewer = models.CharField(max_length=ID, db_index=True)

    class Meta:
        db_table = "livedist_live_invitation"
        constraints = [models.UniqueConstraint(fields=["live", "distributor", "viewer"],
                                               name="livedist_live_invitation_unique")]
        indexes = [models.Index(fields=["distributor"], name="livedist_invite_distributor")]  # the center


class LiveQualifiedViewer(models.Model):
    live = models.CharField(max_length=ID)
    viewer = models.CharField(max_length=ID)

    class Meta:
        db_table = "livedist_live_qualified"
        constraints = [models.UniqueConstraint(fields=["live", "viewer"], name="livedist_live_qualified_unique")]


class LiveQuestion(models.Model):
    """A customer's question a distributor queues for the host ("please show the blue dress")."""

    OPEN, ANSWERED = "open", "answered"

    live = models.ForeignKey(LiveSession, verbose_name=_("live"), on_delete=models.CASCADE, related_name="questions")
    asked_by = models.CharField(_("asked by"), max_length=ID, help_text=_("The distributor who queued it."))
    customer = models.CharField(_("customer"), max_length=ID, blank=True,
                                help_text=_("Whose question it is, if known."))
    text = models.CharField(_("text"), max_length=500)
    status = models.CharField(_("status"), max_length=16, default=OPEN,
                              choices=[(OPEN, _("open")), (ANSWERED, _("answered"))])
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    answered_at = models.DateTimeField(_("answered at"), null=True, blank=True)

    class Meta:
        verbose_name = _("question")
        verbose_name_plural = _("questions")
        db_table = "livedist_live_question"
        ordering = ["created_at", "id"]
        indexes = [models.Index(fields=["live", "status", "created_at"], name="livedist_question_queue")]


class Reminder(models.Model):
    """One reminder to one person for one live: the unique key makes it exactly once."""

    live = models.ForeignKey(LiveSession, verbose_name=_("live"), on_delete=models.CASCADE, related_name="reminders")
    person = models.CharField(_("person"), max_length=ID)
    offset = models.PositiveIntegerField(_("minutes before the start"), default=0,
                                         help_text=_("0: the reminder when the live starts."))
    channel = models.CharField(_("notifiers"), max_length=100, blank=True)  # the ones that delivered it, e.g. by_email
    status = models.CharField(_("status"), max_length=16, default="sending", choices=[
        ("sending", _("sending")), ("sent", _("sent")), ("partial", _("partly sent")), ("failed", _("failed")),
        ("skipped", _("skipped"))])
    error = models.TextField(_("error"), blank=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    sent_at = models.DateTimeField(_("sent at"), null=True, blank=True)

    class Meta:
        verbose_name = _("reminder")
        verbose_name_plural = _("reminders")
        db_table = "livedist_reminder"
        constraints = [models.UniqueConstraint(fields=["live", "person", "offset"], name="livedist_reminder_once")]


class ReminderOptOut(models.Model):
    person = models.CharField(max_length=ID, primary_key=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        db_table = "livedist_reminder_opt_out"


class PublishedTask(models.Model):
    """An invite task staff published for one live: a rule document (docs/rules.md, tasks) kept here instead
    of in a file, loaded with the rule files as one rule set. Withdrawn tasks stay for the record."""

    live = models.ForeignKey(LiveSession, verbose_name=_("live"), on_delete=models.PROTECT,
                             related_name="published_tasks")
    task_id = models.CharField(_("task ID"), max_length=100, unique=True, help_text=_("The task's id in the rules."))
    document = models.TextField(_("document"), help_text=_("The rule document (YAML) that defines the task."))
    published_by = models.CharField(_("published by"), max_length=ID, blank=True)
    published_at = models.DateTimeField(_("published at"), default=timezone.now)
    withdrawn_at = models.DateTimeField(_("withdrawn at"), null=True, blank=True)
    changed_at = models.DateTimeField(_("changed at"), default=timezone.now)

    class Meta:
        verbose_name = _("published task")
        verbose_name_plural = _("published tasks")
        db_table = "livedist_published_task"
        ordering = ["-published_at"]

    @property
    def document_name(self) -> str:
        return f"published/{self.live_id}/{self.task_id}.yaml"

    def __str__(self) -> str:
        return f"{self.task_id} ({self.live_id}{', withdrawn' if self.withdrawn_at else ''})"


class LiveCoupon(models.Model):
    """A coupon valid only while its live is on air, backed by a store voucher (a Saleor voucher inside
    Saleor) with one code per distributor: an order with a distributor's code is attributed to them."""

    FIXED, PERCENT = "fixed", "percent"

    id = models.SlugField(_("ID"), max_length=100, primary_key=True)
    live = models.ForeignKey(LiveSession, verbose_name=_("live"), on_delete=models.PROTECT, related_name="coupons")
    title = models.CharField(_("title"), max_length=255)
    kind = models.CharField(_("kind"), max_length=16,
                            choices=[(FIXED, _("fixed amount off")), (PERCENT, _("percent off"))])
    value = models.DecimalField(_("value"), max_digits=20, decimal_places=4, help_text=_("Amount off, or percent off."))
    currency = models.CharField(_("currency"), max_length=3)
    min_spent = models.DecimalField(_("minimum spend"), max_digits=20, decimal_places=4, null=True, blank=True,
                                    help_text=_("The order must reach this subtotal ('spend 200, save 50')."))
    voucher = models.CharField(_("voucher"), max_length=ID, blank=True, help_text=_("The backing store voucher's id."))
    created_by = models.CharField(_("created by"), max_length=ID, blank=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)

    class Meta:
        verbose_name = _("live coupon")
        verbose_name_plural = _("live coupons")
        db_table = "livedist_live_coupon"
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return self.title


class LiveCouponCode(models.Model):
    """One code of a live coupon; `distributor` is whom an order using it is attributed to ('' for none)."""

    code = models.CharField(max_length=64, primary_key=True)
    coupon = models.ForeignKey(LiveCoupon, on_delete=models.CASCADE, related_name="codes")
    distributor = models.CharField(max_length=ID, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        db_table = "livedist_live_coupon_code"
        constraints = [models.UniqueConstraint(fields=["coupon", "distributor"], name="livedist_coupon_code_once")]


class LiveCouponIssue(models.Model):
    """A code handed to one invited viewer: once per viewer per coupon."""

    coupon = models.ForeignKey(LiveCoupon, on_delete=models.CASCADE, related_name="issues")
    person = models.CharField(max_length=ID)
    code = models.ForeignKey(LiveCouponCode, on_delete=models.CASCADE, related_name="issues")
    issued_at = models.DateTimeField(default=timezone.now)

    class Meta:
        db_table = "livedist_live_coupon_issue"
        constraints = [models.UniqueConstraint(fields=["coupon", "person"], name="livedist_coupon_issue_once")]
        indexes = [models.Index(fields=["person"], name="livedist_coupon_issue_person")]


class PointsRedemption(models.Model):
    """Points a distributor spent on a store voucher or gift card, once per (distributor, request). Its points
    are held from the moment it is written: `pending` (the store has not made the voucher yet) and `issued`
    count against the balance, `failed` gives them back (distribution/redemption.py)."""

    PENDING, ISSUED, FAILED = "pending", "issued", "failed"
    VOUCHER, GIFT_CARD = "voucher", "gift_card"

    distributor = models.CharField(_("distributor"), max_length=ID)
    request = models.CharField(_("request ID"), max_length=100)
    points = models.PositiveIntegerField(_("points"))
    kind = models.CharField(_("kind"), max_length=16, choices=[(VOUCHER, _("voucher")), (GIFT_CARD, _("gift card"))])
    value = models.DecimalField(_("value"), max_digits=20, decimal_places=4)
    currency = models.CharField(_("currency"), max_length=3)
    channel = models.CharField(_("channel"), max_length=ID, blank=True)
    status = models.CharField(_("status"), max_length=16, default=PENDING, choices=[
        (PENDING, _("pending")), (ISSUED, _("issued")), (FAILED, _("failed"))])
    store_id = models.CharField(_("store ID"), max_length=ID, blank=True,
                                help_text=_("The voucher's or gift card's id in the store."))
    code = models.CharField(_("code"), max_length=64, blank=True)
    valid_until = models.DateTimeField(_("valid until"), null=True, blank=True)
    error = models.TextField(_("error"), blank=True)
    rules_version = models.CharField(_("rules version"), max_length=64)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    issued_at = models.DateTimeField(_("issued at"), null=True, blank=True)

    class Meta:
        verbose_name = _("points redemption")
        verbose_name_plural = _("points redemptions")
        db_table = "livedist_points_redemption"
        ordering = ["-created_at", "-id"]
        constraints = [models.UniqueConstraint(fields=["distributor", "request"], name="livedist_redemption_once")]
        indexes = [models.Index(fields=["distributor", "status"], name="livedist_redemption_held")]


class FirstOrderCoupon(models.Model):
    """Two-sided invites: the first-order coupon of a new customer who arrived through a distributor's link
    (rules: invite_coupon), one per person; written `pending` at the click, `issued` once the store made the
    voucher (distribution/invite_coupons.py)."""

    PENDING, ISSUED, FAILED = "pending", "issued", "failed"

    person = models.CharField(_("customer"), max_length=ID, primary_key=True)
    distributor = models.CharField(_("distributor"), max_length=ID, db_index=True)
    kind = models.CharField(_("kind"), max_length=16,
                            choices=[("fixed", _("fixed amount off")), ("percent", _("percent off"))])
    value = models.DecimalField(_("value"), max_digits=20, decimal_places=4)
    currency = models.CharField(_("currency"), max_length=3)
    min_spent = models.DecimalField(_("minimum spend"), max_digits=20, decimal_places=4, null=True, blank=True)
    channel = models.CharField(_("channel"), max_length=ID, blank=True)
    valid_until = models.DateTimeField(_("valid until"))
    status = models.CharField(_("status"), max_length=16, default=PENDING, choices=[
        (PENDING, _("pending")), (ISSUED, _("issued")), (FAILED, _("failed"))])
    store_id = models.CharField(_("store ID"), max_length=ID, blank=True)
    code = models.CharField(_("code"), max_length=64, blank=True)
    error = models.TextField(_("error"), blank=True)
    rules_version = models.CharField(_("rules version"), max_length=64)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    issued_at = models.DateTimeField(_("issued at"), null=True, blank=True)

    class Meta:
        verbose_name = _("first-order coupon")
        verbose_name_plural = _("first-order coupons")
        db_table = "livedist_first_order_coupon"


class SandboxVoucher(models.Model):
    """The sandbox's stand-in for a store's voucher (the sandbox has no Saleor): what the sandbox
    implementation of the voucher port writes and checks. Inside Saleor, Saleor's own vouchers are used."""

    name = models.CharField(max_length=255)
    kind = models.CharField(max_length=16)
    value = models.DecimalField(max_digits=20, decimal_places=4)
    currency = models.CharField(max_length=3)
    channel = models.CharField(max_length=ID, blank=True)
    min_spent = models.DecimalField(max_digits=20, decimal_places=4, null=True, blank=True)
    codes = models.JSONField(default=list)
    start_date = models.DateTimeField(null=True, blank=True)  # null: not valid yet
    end_date = models.DateTimeField(null=True, blank=True)
    grant = models.CharField(max_length=ID, null=True, blank=True, unique=True)  # a one-person voucher's key

    class Meta:
        db_table = "livedist_sandbox_voucher"


class SandboxGiftCard(models.Model):
    """The sandbox's stand-in for a store's gift card (Saleor's GiftCard inside Saleor)."""

    grant = models.CharField(max_length=ID, unique=True)
    code = models.CharField(max_length=64, unique=True)
    person = models.CharField(max_length=ID)
    initial_balance = models.DecimalField(max_digits=20, decimal_places=4)
    current_balance = models.DecimalField(max_digits=20, decimal_places=4)
    currency = models.CharField(max_length=3)
    expiry_date = models.DateField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        db_table = "livedist_sandbox_gift_card"


# ---------------------------------------------------------------------- the distributor's center (saleor_livedist/center)


class CustomerTag(models.Model):
    """A tag a distributor puts on one of their own customers or prospects: only that distributor ever sees it."""

    distributor = models.CharField(_("distributor"), max_length=ID)
    customer = models.CharField(_("customer"), max_length=ID)
    tag = models.CharField(_("tag"), max_length=32)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)

    class Meta:
        verbose_name = _("customer tag")
        verbose_name_plural = _("customer tags")
        db_table = "livedist_customer_tag"
        constraints = [models.UniqueConstraint(fields=["distributor", "customer", "tag"],
                                               name="livedist_customer_tag_once")]


class CustomerNote(models.Model):
    """A distributor's own note on one of their customers or prospects (one per customer); nobody else sees it."""

    distributor = models.CharField(_("distributor"), max_length=ID)
    customer = models.CharField(_("customer"), max_length=ID)
    text = models.TextField(_("text"))
    updated_at = models.DateTimeField(_("updated at"), default=timezone.now)

    class Meta:
        verbose_name = _("customer note")
        verbose_name_plural = _("customer notes")
        db_table = "livedist_customer_note"
        constraints = [models.UniqueConstraint(fields=["distributor", "customer"], name="livedist_customer_note_once")]


# ---------------------------------------------------------------------- the reports (saleor_livedist/reports)


class ReportLine(models.Model):
    """One order line as the reports read it: the order's attribution and standing flattened out of its snapshot
    and lifecycle, with the commission booked on the line. Written only in SQL by saleor_livedist.reports.facts
    from the orders a trigger on livedist_order marks changed (ReportPending); never by the engine."""

    order = models.CharField(max_length=ID)
    line = models.CharField(max_length=ID)
    first = models.BooleanField(default=False)  # the order's first line: counting these counts orders
    customer = models.CharField(max_length=ID)
    channel = models.CharField(max_length=ID, blank=True)
    currency = models.CharField(max_length=3)
    placed_at = models.DateTimeField()
    paid_at = models.DateTimeField(null=True, blank=True)
    live = models.CharField(max_length=ID, null=True, blank=True)
    context = models.CharField(max_length=16)  # live | replay | none, as the engine decided it
    paid_to = models.CharField(max_length=ID, null=True, blank=True)  # level 1: the binding's distributor
    last_click = models.CharField(max_length=ID, null=True, blank=True)
    assists = models.JSONField(default=list)
    product = models.CharField(max_length=ID)
    featured = models.BooleanField(default=False)  # the product is one of the order's live's products
    from_link = models.BooleanField(default=False)  # the buyer clicked a distributor's link to the product before
    amount = models.DecimalField(max_digits=20, decimal_places=4)  # as ordered
    kept = models.DecimalField(max_digits=20, decimal_places=4)  # what the customer kept: refunds off, 0 if cancelled
    commission = models.DecimalField(max_digits=20, decimal_places=4, default=0)  # every level, not reversed
    seller_commission = models.DecimalField(max_digits=20, decimal_places=4, default=0)  # level 1 of it

    class Meta:
        db_table = "livedist_report_line"
        constraints = [models.UniqueConstraint(fields=["order", "line"], name="livedist_report_line_unique")]
        indexes = [
            models.Index(fields=["live", "placed_at"], name="livedist_report_live"),
            models.Index(fields=["product", "customer"], name="livedist_report_link_buyer",
                         condition=models.Q(from_link=True, paid_at__isnull=False)),
        ]


class ReportOrder(models.Model):
    """One order as the reports read it: its report lines added up (saleor_livedist.reports.facts writes it with
    them). Order-level reports read these, half as many rows as the lines."""

    order = models.CharField(max_length=ID, primary_key=True)
    customer = models.CharField(max_length=ID)
    channel = models.CharField(max_length=ID, blank=True)
    currency = models.CharField(max_length=3)
    placed_at = models.DateTimeField()
    paid_at = models.DateTimeField(null=True, blank=True)
    live = models.CharField(max_length=ID, null=True, blank=True)
    context = models.CharField(max_length=16)
    paid_to = models.CharField(max_length=ID, null=True, blank=True)
    last_click = models.CharField(max_length=ID, null=True, blank=True)
    assists = models.JSONField(default=list)
    amount = models.DecimalField(max_digits=20, decimal_places=4)
    kept = models.DecimalField(max_digits=20, decimal_places=4)
    commission = models.DecimalField(max_digits=20, decimal_places=4, default=0)
    seller_commission = models.DecimalField(max_digits=20, decimal_places=4, default=0)
    after_joining = models.BooleanField(default=False)  # placed once the paid distributor had joined

    class Meta:
        db_table = "livedist_report_order"
        indexes = [
            models.Index(fields=["live", "placed_at"], name="livedist_report_order_live"),
            models.Index(fields=["customer"], name="livedist_report_order_buyer"),
            models.Index(fields=["paid_to", "placed_at"], name="livedist_report_order_seller"),
            models.Index(fields=["placed_at"], name="livedist_report_order_assisted",
                         condition=~models.Q(assists=[])),
        ]


class ReportPending(models.Model):
    """An order whose report lines are to be (re)computed: marked by a trigger whenever the order row is written."""

    order = models.CharField(max_length=ID, primary_key=True)

    class Meta:
        db_table = "livedist_report_pending"


# The whole-store totals below are kept by the same refresh as the report lines, from what it changed in them
# (saleor_livedist.reports.totals); the clickers by triggers on the clicks and aliases. The reports read them when
# no date range or channel narrows the orders. Money columns hold sums of the lines' (4 decimals, unrounded).
MONEY = {"max_digits": 24, "decimal_places": 4, "default": 0}


class ReportSellerLive(models.Model):
    """Per distributor paid at level 1, live and currency: the orders attributed to the live."""

    distributor = models.CharField(max_length=ID)
    live = models.CharField(max_length=ID)
    currency = models.CharField(max_length=3)
    orders = models.BigIntegerField(default=0)  # every order, paid or not: the row counts while this is > 0
    paid_orders = models.BigIntegerField(default=0)
    paid_gmv = models.DecimalField(**MONEY)  # what the customers kept of the paid orders
    commission = models.DecimalField(**MONEY)  # level 1, on every order
    team_commission = models.DecimalField(**MONEY)  # levels 2-3, on every order

    class Meta:
        db_table = "livedist_report_seller_live"
        constraints = [models.UniqueConstraint(fields=["distributor", "live", "currency"],
                                               name="livedist_report_seller_live_key")]


class ReportSeller(models.Model):
    """Per distributor and currency: paid orders bound to them, last clicked to them, assisted by them; and the
    orders paying them placed once they had joined (what a viewer turned distributor sold)."""

    distributor = models.CharField(max_length=ID)
    currency = models.CharField(max_length=3)
    bound_orders = models.BigIntegerField(default=0)
    bound_gmv = models.DecimalField(**MONEY)
    bound_commission = models.DecimalField(**MONEY)  # level 1
    last_click_orders = models.BigIntegerField(default=0)
    last_click_gmv = models.DecimalField(**MONEY)
    assisted_orders = models.BigIntegerField(default=0)
    assisted_gmv = models.DecimalField(**MONEY)
    joined_orders = models.BigIntegerField(default=0)  # placed after joining, paid or not
    joined_paid_orders = models.BigIntegerField(default=0)
    joined_paid_gmv = models.DecimalField(**MONEY)
    joined_commission = models.DecimalField(**MONEY)  # level 1, on every order placed after joining

    class Meta:
        db_table = "livedist_report_seller"
        constraints = [models.UniqueConstraint(fields=["distributor", "currency"], name="livedist_report_seller_key")]


class ReportShare(models.Model):
    """Paid orders per currency, from a live or not, paying a distributor or not (the shares' four groups)."""

    currency = models.CharField(max_length=3)
    from_live = models.BooleanField()
    sold = models.BooleanField()  # paying a distributor
    orders = models.BigIntegerField(default=0)
    gmv = models.DecimalField(**MONEY)
    last_click_agrees = models.BigIntegerField(default=0)
    last_click_differs = models.BigIntegerField(default=0)
    unclicked = models.BigIntegerField(default=0)

    class Meta:
        db_table = "livedist_report_share"
        constraints = [models.UniqueConstraint(fields=["currency", "from_live", "sold"],
                                               name="livedist_report_share_key")]


class ReportProduct(models.Model):
    """Paid order lines per product and currency."""

    product = models.CharField(max_length=ID)
    currency = models.CharField(max_length=3)
    lines = models.BigIntegerField(default=0)
    gmv = models.DecimalField(**MONEY)
    distributed_gmv = models.DecimalField(**MONEY)  # in orders paying a distributor
    commission = models.DecimalField(**MONEY)  # every level
    live_gmv = models.DecimalField(**MONEY)  # from a live, its replay or a clip

    class Meta:
        db_table = "livedist_report_product"
        constraints = [models.UniqueConstraint(fields=["product", "currency"], name="livedist_report_product_key")]


class ReportTurned(models.Model):
    """A viewer turned distributor: the latest live they watched that had started when they joined. Kept by
    triggers on the distributors, watches and lives (one distributor at a time: the engine is their one writer)."""

    distributor = models.CharField(max_length=ID, unique=True)
    live = models.CharField(max_length=ID)

    class Meta:
        db_table = "livedist_report_turned"


class ReportClicker(models.Model):
    """A person (a visitor stitched to a customer is the customer) who clicked distributors' links to a product,
    and how many times: kept by triggers on livedist_click and livedist_alias."""

    product = models.CharField(max_length=ID)
    person = models.CharField(max_length=ID)
    clicks = models.BigIntegerField(default=0)

    class Meta:
        db_table = "livedist_report_clicker"
        constraints = [models.UniqueConstraint(fields=["product", "person"], name="livedist_report_clicker_key")]


class AppRegistration(models.Model):
    """The token a Saleor gave the app when it was installed (its tokenTargetUrl), one per Saleor API. The
    plugin itself calls Saleor in process and needs none; a standalone App calls Saleor's API with it."""

    saleor_api_url = models.CharField(max_length=500, unique=True)
    token = models.CharField(max_length=255)
    registered_at = models.DateTimeField(default=timezone.now)

    class Meta:
        db_table = "livedist_app_registration"
        verbose_name = "app registration"

    def __str__(self) -> str:
        return self.saleor_api_url


# ---------------------------------------------------------------------- payouts (saleor_livedist/payouts)


class Payee(models.Model):
    """A distributor who has asked for a payout: the row every change of their withdrawals locks first (SELECT
    ... FOR UPDATE), so two requests at once cannot both spend the same balance."""

    distributor = models.CharField(_("distributor"), max_length=ID, primary_key=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)

    class Meta:
        db_table = "livedist_payee"


class PayoutBatch(models.Model):
    """Approved withdrawals of one currency exported together (CSV and a signed webhook to the payment
    gateway); its id is the webhook's idempotency key. Paid as a whole."""

    EXPORTED, PAID = "exported", "paid"
    DELIVERY = [("none", _("no webhook")), ("pending", _("sending")), ("sent", _("delivered")),
                ("failed", _("failed"))]

    id = models.CharField(_("ID"), max_length=64, primary_key=True)
    currency = models.CharField(_("currency"), max_length=3)
    total = models.DecimalField(_("total"), max_digits=20, decimal_places=4)
    count = models.PositiveIntegerField(_("withdrawals"))
    status = models.CharField(_("status"), max_length=16, default=EXPORTED,
                              choices=[(EXPORTED, _("exported")), (PAID, _("paid"))])
    created_by = models.CharField(_("created by"), max_length=ID, blank=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    paid_by = models.CharField(_("paid by"), max_length=ID, blank=True)
    paid_at = models.DateTimeField(_("paid at"), null=True, blank=True)
    delivery = models.CharField(_("webhook"), max_length=16, default="none", choices=DELIVERY)
    delivery_attempts = models.PositiveIntegerField(_("webhook attempts"), default=0)
    delivery_error = models.TextField(_("webhook error"), blank=True)
    delivered_at = models.DateTimeField(_("delivered at"), null=True, blank=True)

    class Meta:
        verbose_name = _("payout batch")
        verbose_name_plural = _("payout batches")
        db_table = "livedist_payout_batch"
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return self.id


class Withdrawal(models.Model):
    """A distributor's request to be paid part of their approved commission. `account` is the encrypted
    account details (payouts/secrets.py); `account_masked` is all anyone is shown of them."""

    REQUESTED, APPROVED, REFUSED, EXPORTED, PAID = "requested", "approved", "refused", "exported", "paid"
    STATUSES = [(REQUESTED, _("requested")), (APPROVED, _("approved")), (REFUSED, _("refused")),
                (EXPORTED, _("in a payout batch")), (PAID, _("paid"))]
    OPEN = (REQUESTED, APPROVED, EXPORTED)  # counted as pending against the balance

    distributor = models.CharField(_("distributor"), max_length=ID, db_index=True)
    request_id = models.CharField(_("request ID"), max_length=100)
    amount = models.DecimalField(_("amount"), max_digits=20, decimal_places=4)
    currency = models.CharField(_("currency"), max_length=3)
    method = models.CharField(_("method"), max_length=16)
    account = models.TextField(_("account (encrypted)"))
    account_masked = models.CharField(_("account"), max_length=255)
    status = models.CharField(_("status"), max_length=16, choices=STATUSES, default=REQUESTED)
    reason = models.CharField(_("reason"), max_length=500, blank=True)  # why staff refused it
    batch = models.ForeignKey(PayoutBatch, verbose_name=_("payout batch"), null=True, blank=True,
                              on_delete=models.PROTECT, related_name="withdrawals")
    created_at = models.DateTimeField(_("requested at"), default=timezone.now)
    decided_by = models.CharField(_("decided by"), max_length=ID, blank=True)
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)
    paid_at = models.DateTimeField(_("paid at"), null=True, blank=True)

    class Meta:
        verbose_name = _("withdrawal")
        verbose_name_plural = _("withdrawals")
        db_table = "livedist_withdrawal"
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["distributor", "request_id"], name="livedist_withdrawal_once"),
        ]
        indexes = [models.Index(fields=["status", "currency", "created_at"], name="livedist_withdrawal_queue")]

    def __str__(self) -> str:
        return f"{self.amount} {self.currency} ({self.status})"


class PayoutChange(models.Model):
    """One state change of a withdrawal or a batch, with who made it and when. `request_id` is unique: the same
    request sent twice changes nothing the second time."""

    request_id = models.CharField(_("request ID"), max_length=200, unique=True)
    action = models.CharField(_("action"), max_length=16)  # requested, approved, refused, exported, paid
    withdrawal = models.ForeignKey(Withdrawal, verbose_name=_("withdrawal"), null=True, blank=True,
                                   on_delete=models.PROTECT, related_name="changes")
    batch = models.ForeignKey(PayoutBatch, verbose_name=_("payout batch"), null=True, blank=True,
                              on_delete=models.PROTECT, related_name="changes")
    by = models.CharField(_("by"), max_length=ID, blank=True)
    at = models.DateTimeField(_("at"), default=timezone.now)
    note = models.CharField(_("note"), max_length=500, blank=True)

    class Meta:
        verbose_name = _("payout change")
        verbose_name_plural = _("payout changes")
        db_table = "livedist_payout_change"
        ordering = ["at", "id"]
