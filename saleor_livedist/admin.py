"""Admin pages for the merchant: distributors, bindings, the ledger (read-only, with provenance), points,
rule versions with their problems, and events with a re-run action for the failed ones."""
from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.db.models import Q, QuerySet
from django.http import HttpRequest
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext as _, gettext_lazy, ngettext

from . import models as m
from .core.money import round_money
from .db.rows import plain
from .graphql.schema import balances
from .identity import identities_matching, staff_label


class PeopleAdmin(admin.ModelAdmin):
    """People are stored by identity (user:12): staff see the account's name and find rows by name or e-mail."""

    person_fields: tuple[str, ...] = ()

    def get_search_results(self, request: HttpRequest, queryset: QuerySet[Any], search_term: str) -> Any:
        found, duplicates = super().get_search_results(request, queryset, search_term)
        identities = identities_matching(search_term)
        if identities and self.person_fields:
            by_person = Q()
            for name in self.person_fields:
                by_person |= Q(**{f"{name}__in": identities})
            found = found | queryset.filter(by_person)
        return found, duplicates


def person_column(field: str, description: Any) -> Any:
    @admin.display(description=description, ordering=field)
    def column(self: Any, obj: Any) -> str:
        value = getattr(obj, field)
        return staff_label(value) if value else "-"

    return column


class ReadOnlyAdmin(PeopleAdmin):
    """The engine is the only writer of these tables: the admin shows, it never edits."""

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(m.Distributor)
class DistributorAdmin(ReadOnlyAdmin):
    list_display = ("id", "person", "rank", "upline_person", "joined_at", "paying_invitees", "balance")
    list_filter = ("rank",)
    search_fields = ("id", "upline")
    person_fields = ("id", "upline")
    person = person_column("id", gettext_lazy("name"))
    upline_person = person_column("upline", gettext_lazy("upline"))

    @admin.display(description=gettext_lazy("balances (pending / approved)"))
    def balance(self, obj: m.Distributor) -> str:
        return ", ".join(f"{b.currency} {b.pending} / {b.approved}" for b in balances(obj.id)) or "-"


@admin.register(m.Binding)
class BindingAdmin(ReadOnlyAdmin):
    list_display = ("person", "distributor_person", "via", "at", "expires_at")
    list_filter = ("via",)
    search_fields = ("identity", "distributor")
    person_fields = ("identity", "distributor")
    person = person_column("identity", gettext_lazy("customer"))
    distributor_person = person_column("distributor", gettext_lazy("distributor"))


@admin.register(m.LedgerEntry)
class LedgerEntryAdmin(ReadOnlyAdmin):
    list_display = ("order", "line", "person", "kind", "level", "money", "status", "rate", "rules",
                    "rules_version", "at")
    list_filter = ("status", "kind", "level", "currency", "rules_version")
    search_fields = ("order", "beneficiary")
    person_fields = ("beneficiary",)
    person = person_column("beneficiary", gettext_lazy("beneficiary"))

    @admin.display(description=gettext_lazy("amount"))
    def money(self, obj: m.LedgerEntry) -> str:
        return f"{round_money(obj.amount, obj.currency)} {obj.currency}"

    @admin.display(description=gettext_lazy("percent"))
    def rate(self, obj: m.LedgerEntry) -> str:
        return f"{plain(obj.percent)}%"

    @admin.display(description=gettext_lazy("rules (provenance)"))
    def rules(self, obj: m.LedgerEntry) -> str:
        return ", ".join(obj.rule_ids)


@admin.register(m.PointsGrant)
class PointsGrantAdmin(ReadOnlyAdmin):
    list_display = ("person", "points", "reason", "live", "invitee_person", "rules_version", "at")
    list_filter = ("reason",)
    search_fields = ("beneficiary",)
    person_fields = ("beneficiary", "invitee")
    person = person_column("beneficiary", gettext_lazy("beneficiary"))
    invitee_person = person_column("invitee", gettext_lazy("invitee"))


@admin.register(m.PointsRedemption)
class PointsRedemptionAdmin(ReadOnlyAdmin):
    """Points spent on vouchers and gift cards (distribution/redemption.py): pending ones hold their points until
    finished, failed ones gave them back."""
    list_display = ("person", "request", "points", "kind", "value", "currency", "status", "code", "created_at")
    list_filter = ("status", "kind")
    search_fields = ("distributor", "request", "code")
    person_fields = ("distributor",)
    person = person_column("distributor", gettext_lazy("distributor"))


@admin.register(m.FirstOrderCoupon)
class FirstOrderCouponAdmin(ReadOnlyAdmin):
    """Invited new customers' first-order coupons (rules: invite_coupon)."""
    list_display = ("customer", "inviter", "kind", "value", "currency", "status", "code", "valid_until")
    list_filter = ("status",)
    search_fields = ("person", "code")
    person_fields = ("person", "distributor")
    customer = person_column("person", gettext_lazy("customer"))
    inviter = person_column("distributor", gettext_lazy("distributor"))


@admin.register(m.PoolRun)
class PoolRunAdmin(ReadOnlyAdmin):
    """Each pool bonus paid, per period; its shares are the ledger entries of order pool:<pool>:<period>."""
    list_display = ("pool", "period", "starts_at", "ends_at", "paid", "rules_version", "ran_at")
    list_filter = ("pool",)

    @admin.display(description=gettext_lazy("GMV, pool and paid"))
    def paid(self, obj: m.PoolRun) -> str:
        return "; ".join(f"{t['gmv']} / {t['pool']} / {t['paid']} {currency}" for currency, t in obj.totals.items())


@admin.register(m.RuleVersion)
class RuleVersionAdmin(ReadOnlyAdmin):
    list_display = ("version", "active", "first_seen", "file_names", "problem_count")
    list_filter = ("active",)
    readonly_fields = ("version", "active", "first_seen", "files_text", "problems_text")
    exclude = ("files", "problems")

    @admin.display(description=gettext_lazy("files"))
    def file_names(self, obj: m.RuleVersion) -> str:
        return ", ".join(sorted(obj.files))

    @admin.display(description=gettext_lazy("problems"))
    def problem_count(self, obj: m.RuleVersion) -> int:
        return len(obj.problems)

    @admin.display(description=gettext_lazy("files"))
    def files_text(self, obj: m.RuleVersion) -> str:
        return format_html_join("", "<h4>{}</h4><pre>{}</pre>", sorted(obj.files.items()))

    @admin.display(description=gettext_lazy("problems"))
    def problems_text(self, obj: m.RuleVersion) -> str:
        return format_html("<pre>{}</pre>", "\n\n".join(obj.problems)) if obj.problems else "-"


class ActionsOnlyAdmin(ReadOnlyAdmin):
    """Read-only rows that staff act on with the list's actions (which go through the services)."""

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return bool(request.user.is_staff)  # needed for actions; the form itself shows no editable field

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        return [f.name for f in self.model._meta.fields]


@admin.register(m.InboxEvent)
class InboxEventAdmin(ActionsOnlyAdmin):
    list_display = ("event_id", "type", "at", "status", "attempts", "short_error", "received_at", "processed_at")
    list_filter = ("status", "type")
    search_fields = ("event_id",)
    actions = ["rerun"]

    @admin.display(description=gettext_lazy("error"))
    def short_error(self, obj: m.InboxEvent) -> str:
        return obj.error[:120]

    @admin.action(description=gettext_lazy("Re-run the selected failed events"))
    def rerun(self, request: HttpRequest, queryset: QuerySet[m.InboxEvent]) -> None:
        from .inbox.processing import rerun

        failed = list(queryset.filter(status=m.InboxEvent.FAILED).values_list("event_id", flat=True))
        count = rerun(failed)
        skipped = queryset.count() - count
        text = ngettext("%(n)d event queued again", "%(n)d events queued again", count) % {"n": count}
        if skipped:
            text += "; " + ngettext("%(n)d skipped (only failed events are re-run)",
                                    "%(n)d skipped (only failed events are re-run)", skipped) % {"n": skipped}
        self.message_user(request, text, messages.SUCCESS if count else messages.WARNING)


class LiveReplayInline(admin.TabularInline):
    """Shown only: a replay is published with replayPublish, which tells the engine."""

    model = m.LiveReplay
    extra = 0
    readonly_fields = ("id", "url", "available_from", "available_until")
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class LiveClipInline(admin.TabularInline):
    """Shown only: a clip is cut with clipCreate, which tells the engine (a clip saved here would earn nothing)."""

    model = m.LiveClip
    extra = 0
    readonly_fields = ("id", "replay", "title", "start_seconds", "end_seconds", "url")
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class LiveSessionForm(forms.ModelForm):
    class Meta:
        model = m.LiveSession
        fields = "__all__"

    def clean_reminder_offsets(self) -> list[int] | None:
        from .exceptions import ServiceError
        from .live_room.lives import checked_offsets

        try:
            return checked_offsets(self.cleaned_data.get("reminder_offsets"))
        except ServiceError as exc:
            raise forms.ValidationError(exc.message) from None


@admin.register(m.LiveSession)
class LiveSessionAdmin(admin.ModelAdmin):
    """Lives are created here or through the API; starting and ending go through actions so that the engine
    is told at the right second (editing the status field by hand would not tell it). Once scheduled, what the
    engine or the store's vouchers were told (start, featured products, host, channel) is shown, not edited:
    saving it here would reach neither. The title and stream URL are read when used, so they stay editable."""

    form = LiveSessionForm
    list_display = ("id", "title", "status", "scheduled_start", "actual_start", "actual_end", "channel")
    list_filter = ("status", "channel")
    search_fields = ("id", "title")
    readonly_fields = ("status", "actual_start", "actual_end", "created_at")
    told_the_engine = ("id", "scheduled_start", "featured_products", "host", "channel")
    inlines = [LiveReplayInline, LiveClipInline]
    actions = ["start", "end"]

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        return self.readonly_fields + (self.told_the_engine if obj is not None else ())

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # the engine keeps the live, its rates and tasks: end it instead

    def save_model(self, request: HttpRequest, obj: m.LiveSession, form: Any, change: bool) -> None:
        from .live_room.lives import schedule_live

        if change:
            super().save_model(request, obj, form, change)
        else:  # a new live is scheduled through the service, so the engine hears of it
            schedule_live(obj.id, obj.title, obj.scheduled_start, obj.featured_products, host=obj.host,
                          channel=obj.channel, stream_url=obj.stream_url, reminder_offsets=obj.reminder_offsets)

    def _run(self, request: HttpRequest, queryset: QuerySet[m.LiveSession], step: Any, done: str) -> None:
        """`done`: the message for a live the step succeeded for, with %(live)s."""
        from .exceptions import ServiceError

        for live in queryset:
            try:
                step(live.id)
                self.message_user(request, done % {"live": live.id}, messages.SUCCESS)
            except ServiceError as exc:
                self.message_user(request, f"{live.id}: {exc.message}", messages.ERROR)

    @admin.action(description=gettext_lazy("Start the selected lives (now)"))
    def start(self, request: HttpRequest, queryset: QuerySet[m.LiveSession]) -> None:
        from .live_room.lifecycle import start_live

        self._run(request, queryset, start_live, _("%(live)s started"))

    @admin.action(description=gettext_lazy("End the selected lives (now)"))
    def end(self, request: HttpRequest, queryset: QuerySet[m.LiveSession]) -> None:
        from .live_room.lifecycle import end_live

        self._run(request, queryset, end_live, _("%(live)s ended"))


@admin.register(m.LiveQuestion)
class LiveQuestionAdmin(PeopleAdmin):
    list_display = ("live", "text", "status", "asked_by_person", "customer_person", "created_at", "answered_at")
    list_filter = ("status", "live")
    search_fields = ("text",)
    person_fields = ("asked_by", "customer")
    asked_by_person = person_column("asked_by", gettext_lazy("asked by"))
    customer_person = person_column("customer", gettext_lazy("customer"))
    readonly_fields = ("live", "asked_by", "customer", "text", "created_at", "answered_at", "status")
    actions = ["mark_answered"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    @admin.action(description=gettext_lazy("Mark the selected questions answered"))
    def mark_answered(self, request: HttpRequest, queryset: QuerySet[m.LiveQuestion]) -> None:
        from django.utils import timezone

        count = queryset.filter(status=m.LiveQuestion.OPEN).update(status=m.LiveQuestion.ANSWERED,
                                                                    answered_at=timezone.now())
        self.message_user(request, ngettext("%(n)d question answered", "%(n)d questions answered", count) % {
            "n": count}, messages.SUCCESS)


class PublishTaskForm(forms.ModelForm):
    """Publishing from the admin: the same inputs as the API's liveTaskPublish, checked with the rule files."""

    watched_minutes = forms.IntegerField(required=False, label=gettext_lazy("Watched minutes"),
                                         help_text=gettext_lazy("Qualify: watched at least this many minutes."))
    entered = forms.BooleanField(required=False, label=gettext_lazy("Entered"),
                                 help_text=gettext_lazy("Qualify: entered the live."))
    ordered = forms.BooleanField(required=False, label=gettext_lazy("Ordered"),
                                 help_text=gettext_lazy("Qualify: placed an order that was paid."))
    description = forms.CharField(required=False, label=gettext_lazy("Description"))
    target = forms.IntegerField(required=False, label=gettext_lazy("Target"),
                                help_text=gettext_lazy("Qualified invitees that earn the reward once."))
    reward_points = forms.IntegerField(required=False, label=gettext_lazy("Reward points"))
    reward_bonus_percent = forms.DecimalField(required=False, label=gettext_lazy("Reward bonus percent"))
    each_points = forms.IntegerField(required=False, label=gettext_lazy("Points each"),
                                     help_text=gettext_lazy("Points for every qualified invitee."))

    class Meta:
        model = m.PublishedTask
        fields = ["live", "task_id"]

    def clean(self) -> dict[str, Any]:
        from .exceptions import RuleFileError
        from .live_room.published_tasks import RuleProblems, task_document
        from .inbox.processing import rules_source

        data = super().clean()
        if self.errors:
            return data
        if data["live"].status == m.LiveSession.ENDED:
            raise forms.ValidationError(_("the live has ended; publish tasks for a scheduled live or one on air"))
        fields = {k: data[k] for k in ("watched_minutes", "entered", "ordered", "description", "target",
                                       "reward_points", "reward_bonus_percent", "each_points") if data.get(k)}
        self.task_fields = fields
        name = f"published/{data['live'].pk}/{data['task_id']}.yaml"
        try:
            rules_source().check({name: task_document(data["live"].pk, data["task_id"], **fields)})
        except RuleFileError as exc:
            raise forms.ValidationError([p.render() for p in RuleProblems(exc).problems]) from None
        return data


@admin.register(m.PublishedTask)
class PublishedTaskAdmin(admin.ModelAdmin):
    """Invite tasks staff publish for one live. Published tasks are never edited (their rewards record the
    rules version they were granted under): withdraw one and publish another."""

    list_display = ("task_id", "live", "published_at", "published_by", "withdrawn_at")
    list_filter = ("live",)
    readonly_fields = ("live", "task_id", "document", "published_by", "published_at", "withdrawn_at")
    actions = ["withdraw"]

    def get_form(self, request: HttpRequest, obj: Any = None, change: bool = False, **kwargs: Any) -> Any:
        if obj is None:
            kwargs["form"] = PublishTaskForm
        return super().get_form(request, obj, change=change, **kwargs)

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        return self.readonly_fields if obj is not None else ()

    def save_model(self, request: HttpRequest, obj: m.PublishedTask, form: Any, change: bool) -> None:
        from .live_room.published_tasks import publish_task

        published = publish_task(obj.live_id, obj.task_id, published_by=f"user:{request.user.pk}",
                                 **form.task_fields)
        obj.pk, obj.document = published.pk, published.document

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    @admin.action(description=gettext_lazy("Withdraw the selected tasks (points already granted stay)"))
    def withdraw(self, request: HttpRequest, queryset: QuerySet[m.PublishedTask]) -> None:
        from .live_room.published_tasks import withdraw_task

        for task in queryset:
            withdraw_task(task.task_id)
        count = queryset.count()
        self.message_user(request, ngettext("%(n)d task withdrawn", "%(n)d tasks withdrawn", count) % {"n": count},
                          messages.SUCCESS)


class LiveCouponCodeInline(admin.TabularInline):
    model = m.LiveCouponCode
    fields = ("code", "distributor", "created_at")
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(m.LiveCoupon)
class LiveCouponAdmin(admin.ModelAdmin):
    """Live coupons: created here or with liveCouponCreate, always through the service, so the store's voucher
    is made with them; distributors' codes are made when a distributor asks for theirs or a viewer is issued one."""

    list_display = ("id", "title", "live", "kind", "value", "currency", "min_spent", "voucher")
    list_filter = ("live",)
    inlines = [LiveCouponCodeInline]

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # the store's voucher and the codes given out would stay valid; it closes with the live

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        fields = ("voucher", "created_by", "created_at")
        return fields if obj is None else fields + ("id", "live", "title", "kind", "value", "currency", "min_spent")

    def save_model(self, request: HttpRequest, obj: m.LiveCoupon, form: Any, change: bool) -> None:
        from .live_room.coupons import create_coupon
        from .exceptions import ServiceError

        if change:
            return  # nothing editable: the voucher was made with these values
        try:
            made = create_coupon(obj.live_id, obj.id, obj.title, obj.kind, obj.value, obj.currency,
                                 min_spent=obj.min_spent, created_by=f"user:{request.user.pk}")
        except ServiceError as exc:
            self.message_user(request, f"{exc.field}: {exc.message}", messages.ERROR)
            raise _Refused from exc
        obj.voucher = made.voucher

    def add_view(self, request: HttpRequest, *args: Any, **kwargs: Any) -> Any:
        try:
            return super().add_view(request, *args, **kwargs)
        except _Refused:
            from django.http import HttpResponseRedirect

            return HttpResponseRedirect(request.path)


class _Refused(Exception):
    """The service refused a coupon the admin form accepted; the message is already queued for the user."""


@admin.register(m.Reminder)
class ReminderAdmin(ReadOnlyAdmin):
    """Who was reminded of which live, by which notifiers, and what failed (never sent twice)."""

    list_display = ("live", "person_name", "offset", "status", "channel", "created_at", "sent_at")
    list_filter = ("status", "live")
    search_fields = ("person",)
    person_fields = ("person",)
    person_name = person_column("person", gettext_lazy("person"))


@admin.register(m.HeldInvitee)
class HeldInviteeAdmin(ActionsOnlyAdmin):
    """Invitees held past guards.invitees_per_distributor_per_day: staff approve or reject them (the engine
    applies the decision; docs/rules.md, "guards")."""

    list_display = ("invitee_person", "inviter_person", "task", "live", "at", "status", "reviewed_at")
    list_filter = ("status", "task")
    person_fields = ("invitee", "inviter")
    actions = ["approve", "reject"]
    invitee_person = person_column("invitee", gettext_lazy("invitee"))
    inviter_person = person_column("inviter", gettext_lazy("distributor"))

    def _review(self, request: HttpRequest, queryset: QuerySet[m.HeldInvitee], decision: str) -> None:
        from .distribution.guards import review_held_invitee
        from .exceptions import ServiceError
        from .identity import of_user

        done, refused = 0, []
        for key in queryset.values_list("key", flat=True):
            try:
                review_held_invitee(key, decision, by=of_user(request.user))
                done += 1
            except ServiceError as exc:
                refused.append(f"{key}: {exc.message}")
        if done:
            text = (ngettext("%(n)d invitee approved", "%(n)d invitees approved", done) if decision == "approve"
                    else ngettext("%(n)d invitee rejected", "%(n)d invitees rejected", done))
            self.message_user(request, text % {"n": done}, messages.SUCCESS)
        for message in refused:
            self.message_user(request, message, messages.WARNING)

    @admin.action(description=gettext_lazy("Approve the selected invitees (they count from now)"))
    def approve(self, request: HttpRequest, queryset: QuerySet[m.HeldInvitee]) -> None:
        self._review(request, queryset, "approve")

    @admin.action(description=gettext_lazy("Reject the selected invitees"))
    def reject(self, request: HttpRequest, queryset: QuerySet[m.HeldInvitee]) -> None:
        self._review(request, queryset, "reject")
