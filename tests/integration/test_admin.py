"""The merchant's admin pages: every page renders with the data, the ledger is read-only, and a failed
event can be re-run from the events list."""
from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from saleor_livedist.inbox import processing
from saleor_livedist.models import InboxEvent, LedgerEntry, RuleVersion
from tests.builders import Stream

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def staff() -> Client:
    user = get_user_model().objects.create_superuser("boss", "boss@example.com", "pw")
    client = Client()
    client.force_login(user)
    return client


def scenario() -> None:
    s = Stream()
    s.distributor("bob")
    s.click("bob", "cust", minute=0, product="p-plain")
    s.order("o1", "cust", minute=10)
    for event in s.raw:
        processing.submit(event, process=False)
    processing.process_pending()
    processing.record_rule_version(processing.rules_source())


def test_pages_show_distributors_ledger_with_provenance_points_and_rules(staff: Client) -> None:
    scenario()
    pages = {
        "distributor": ["bob", "CNY 5.00 / 0.00"],
        "binding": ["cust", "click"],
        "ledgerentry": ["o1", "5.00 CNY", "5%", "direct"],
        "pointsgrant": [],
        "ruleversion": [RuleVersion.objects.get(active=True).version, "commission.yaml"],
        "inboxevent": ["order.paid", "done"],
    }
    for model, texts in pages.items():
        page = staff.get(f"/admin/saleor_livedist/{model}/")
        assert page.status_code == 200, model
        for text in texts:
            assert text in page.content.decode(), (model, text)


def test_the_ledger_is_read_only(staff: Client) -> None:
    scenario()
    entry = LedgerEntry.objects.get()
    assert staff.get("/admin/saleor_livedist/ledgerentry/add/").status_code == 403
    page = staff.post(f"/admin/saleor_livedist/ledgerentry/{entry.pk}/change/", {"amount": "999"})
    assert page.status_code in (200, 403)
    assert LedgerEntry.objects.get().amount == entry.amount


def test_a_failed_event_is_rerun_from_the_admin(staff: Client) -> None:
    scenario()
    InboxEvent.objects.create(event_id="late", type="order.fulfilled", at="2026-11-21T10:00:00+08:00",
                              payload={"id": "late", "type": "order.fulfilled", "at": "2026-11-21T10:00:00+08:00",
                                       "order": "o1"},
                              status=InboxEvent.FAILED, attempts=3, error="RuntimeError: database was away")
    page = staff.get("/admin/saleor_livedist/inboxevent/?status=failed")
    assert "database was away" in page.content.decode()
    row = InboxEvent.objects.get(event_id="late")
    response = staff.post("/admin/saleor_livedist/inboxevent/", {
        "action": "rerun", "_selected_action": [row.pk]}, follow=True)
    assert "1 event queued again" in response.content.decode()
    assert InboxEvent.objects.get(event_id="late").status == InboxEvent.DONE


def test_lives_are_scheduled_and_started_from_the_admin(staff: Client) -> None:
    from saleor_livedist.models import Live, LiveSession

    page = staff.post("/admin/saleor_livedist/livesession/add/", {
        "id": "l9", "title": "Night market", "host": "", "channel": "default",
        "scheduled_start_0": "2026-12-01", "scheduled_start_1": "20:00:00", "featured_products": '["p1"]',
        "stream_url": "", "replays-TOTAL_FORMS": "0", "replays-INITIAL_FORMS": "0",
        "clips-TOTAL_FORMS": "0", "clips-INITIAL_FORMS": "0"}, follow=True)
    assert page.status_code == 200 and LiveSession.objects.filter(id="l9").exists(), page.content[:2000]
    assert Live.objects.get(id="l9").products == ["p1"]
    response = staff.post("/admin/saleor_livedist/livesession/", {"action": "start", "_selected_action": ["l9"]},
                          follow=True)
    assert [m.message for m in response.context["messages"]] == ["l9 started"]
    assert LiveSession.objects.get(id="l9").status == "live" and Live.objects.get(id="l9").started_at


def schedule_l9(staff: Client) -> None:
    staff.post("/admin/saleor_livedist/livesession/add/", {
        "id": "l9", "title": "Night market", "host": "", "channel": "default",
        "scheduled_start_0": "2026-12-01", "scheduled_start_1": "20:00:00", "featured_products": "[]",
        "stream_url": "", "replays-TOTAL_FORMS": "0", "replays-INITIAL_FORMS": "0",
        "clips-TOTAL_FORMS": "0", "clips-INITIAL_FORMS": "0"})


def test_invite_tasks_are_published_and_withdrawn_from_the_admin(staff: Client) -> None:
    from saleor_livedist.models import LiveSession, PublishedTask

    schedule_l9(staff)
    assert LiveSession.objects.filter(id="l9").exists()
    clash = staff.post("/admin/saleor_livedist/publishedtask/add/", {
        "live": "l9", "task_id": "ten-watchers", "watched_minutes": "5", "target": "3", "reward_points": "30"})
    assert clash.status_code == 200 and b"LD201" in clash.content and b"duplicate id" in clash.content
    assert not PublishedTask.objects.exists()
    try:
        page = staff.post("/admin/saleor_livedist/publishedtask/add/", {
            "live": "l9", "task_id": "l9-three", "watched_minutes": "5", "target": "3", "reward_points": "30",
            "reward_bonus_percent": "1.5"}, follow=True)
        assert page.status_code == 200
        task = PublishedTask.objects.get(task_id="l9-three")
        assert "bonus_percent: 1.5\n" in task.document and task.published_by.startswith("user:")
        published = processing.rules_source().current().ruleset.task("l9-three")
        assert published is not None and str(published.reward.bonus_percent) == "1.5"
        response = staff.post("/admin/saleor_livedist/publishedtask/", {
            "action": "withdraw", "_selected_action": [task.pk]}, follow=True)
        assert [m.message for m in response.context["messages"]] == ["1 task withdrawn"]
        assert PublishedTask.objects.get().withdrawn_at is not None
        assert processing.rules_source().current().ruleset.task("l9-three") is None
    finally:
        processing.reset_rules_source()


def test_live_coupons_are_created_from_the_admin_with_their_voucher(staff: Client) -> None:
    from saleor_livedist.models import LiveCoupon, SandboxVoucher

    schedule_l9(staff)
    form = {"id": "night50", "live": "l9", "title": "Spend 200, save 50", "kind": "fixed", "value": "50",
            "currency": "CNY", "min_spent": "30", "codes-TOTAL_FORMS": "0", "codes-INITIAL_FORMS": "0"}
    refused = staff.post("/admin/saleor_livedist/livecoupon/add/", form, follow=True)
    assert "must be at least the amount off" in " ".join(m.message for m in refused.context["messages"])
    assert not LiveCoupon.objects.exists() and not SandboxVoucher.objects.exists()
    page = staff.post("/admin/saleor_livedist/livecoupon/add/", {**form, "min_spent": "200"}, follow=True)
    assert page.status_code == 200
    coupon = LiveCoupon.objects.get()
    assert coupon.voucher == str(SandboxVoucher.objects.get().pk) and coupon.created_by.startswith("user:")
    assert staff.get(f"/admin/saleor_livedist/livecoupon/{coupon.pk}/change/").status_code == 200
    assert staff.get(f"/admin/saleor_livedist/livecoupon/{coupon.pk}/delete/").status_code == 403


def test_what_the_engine_was_told_cannot_be_changed_in_the_admin(staff: Client) -> None:
    """Saving featured products (or the start, host, channel) here once said "changed successfully" while the
    engine kept the old ones: after scheduling they are shown, not editable; title and stream URL stay editable."""
    from saleor_livedist.models import Live, LiveClip, LiveSession

    schedule_l9(staff)
    page = staff.get("/admin/saleor_livedist/livesession/l9/change/").content.decode()
    assert 'name="featured_products"' not in page and 'name="scheduled_start_0"' not in page
    assert 'name="title"' in page and 'name="stream_url"' in page
    staff.post("/admin/saleor_livedist/livesession/l9/change/", {
        "title": "Night market II", "stream_url": "", "featured_products": '["p-new"]', "host": "user:9",
        "channel": "other", "scheduled_start_0": "2027-01-01", "scheduled_start_1": "20:00:00",
        "replays-TOTAL_FORMS": "0", "replays-INITIAL_FORMS": "0",
        "clips-TOTAL_FORMS": "1", "clips-INITIAL_FORMS": "0", "clips-0-id": "c1", "clips-0-start_seconds": "0",
        "clips-0-end_seconds": "10", "clips-0-title": "sneaked in"})
    live = LiveSession.objects.get(id="l9")
    assert (live.title, live.featured_products, live.host, live.channel) == ("Night market II", [], "", "default")
    assert live.scheduled_start.year == 2026 and Live.objects.get(id="l9").products == []
    assert not LiveClip.objects.exists()  # clips are cut with clipCreate, which tells the engine
    # deleting would leave the engine's live (and a coupon's voucher) behind: refused
    assert staff.get("/admin/saleor_livedist/livesession/l9/delete/").status_code == 403


def test_the_sandbox_admin_is_styled(staff: Client) -> None:
    page = staff.get("/admin/").content.decode()
    assert "/static/admin/css/base.css" in page
    css = staff.get("/static/admin/css/base.css")
    assert css.status_code == 200 and b"body" in b"".join(css.streaming_content)


def test_people_are_shown_by_name_and_found_by_name_or_email(staff: Client) -> None:
    """Distributors once showed as user:N and search by name or e-mail found nobody."""
    from django.utils import timezone

    from saleor_livedist.models import Binding, Distributor

    users = get_user_model().objects
    alice = users.create_user("alice", "alice.wong@example.com", "pw", first_name="Alice", last_name="Wong")
    carl = users.create_user("carl", "carl@example.com", "pw", first_name="Carl", last_name="Berg")
    now = timezone.now()
    for user, upline in ((alice, None), (carl, f"user:{alice.pk}")):
        Distributor.objects.create(id=f"user:{user.pk}", upline=upline, joined_at=now, rank="member", ranks=[])
    Binding.objects.create(identity="guest:dora@example.com", distributor=f"user:{carl.pk}", via="click", at=now)
    listing = staff.get("/admin/saleor_livedist/distributor/").content.decode()
    assert "Alice Wong (a***@example.com)" in listing and "Carl Berg (c***@example.com)" in listing
    assert "alice.wong@example.com" not in listing
    # carl is found by his upline's name too
    for term, expected in (("Berg", {carl}), ("carl@example", {carl}), ("Wong", {alice, carl}), ("nobody", set())):
        page = staff.get("/admin/saleor_livedist/distributor/", {"q": term})
        found = {row.id for row in page.context["cl"].result_list}
        assert found == {f"user:{u.pk}" for u in expected}, term
    bindings = staff.get("/admin/saleor_livedist/binding/", {"q": "Berg"})
    assert [b.identity for b in bindings.context["cl"].result_list] == ["guest:dora@example.com"]
    assert "d***@example.com" in bindings.content.decode()
    by_guest = staff.get("/admin/saleor_livedist/binding/", {"q": "dora@example.com"})
    assert len(by_guest.context["cl"].result_list) == 1
    from saleor_livedist.models import LiveQuestion, LiveSession

    LiveSession.objects.create(id="l1", title="Night market", scheduled_start=now)
    LiveQuestion.objects.create(live_id="l1", asked_by=f"user:{carl.pk}", customer="guest:dora@example.com",
                                text="Does it come in blue?")
    questions = staff.get("/admin/saleor_livedist/livequestion/", {"q": "Carl"})
    assert len(questions.context["cl"].result_list) == 1 and "Carl Berg (c***@example.com)" in questions.content.decode()


def test_times_are_shown_and_entered_in_the_display_time_zone(staff: Client, settings: object) -> None:
    """Times were shown and typed in UTC: DISPLAY_TIME_ZONE (default the project's TIME_ZONE) is used instead."""
    from datetime import datetime, timezone as tz

    from saleor_livedist.display import show
    from saleor_livedist.models import Live, LiveSession

    settings.LIVEDIST = {**settings.LIVEDIST, "DISPLAY_TIME_ZONE": "Asia/Shanghai"}  # type: ignore[attr-defined]
    schedule_l9(staff)  # "2026-12-01 20:00", typed in Shanghai
    assert LiveSession.objects.get(id="l9").scheduled_start == datetime(2026, 12, 1, 12, 0, tzinfo=tz.utc)
    assert Live.objects.get(id="l9").starts_at == datetime(2026, 12, 1, 12, 0, tzinfo=tz.utc)
    listing = staff.get("/admin/saleor_livedist/livesession/").content.decode()
    assert "Dec. 1, 2026, 8 p.m." in listing
    assert show(datetime(2026, 12, 1, 12, 0, tzinfo=tz.utc)) == "2026-12-01 20:00 +08:00"
    settings.LIVEDIST = {**settings.LIVEDIST, "DISPLAY_TIME_ZONE": None}  # type: ignore[attr-defined]
    settings.TIME_ZONE = "America/New_York"  # type: ignore[attr-defined]  # the default: the merchant's TIME_ZONE
    assert show(datetime(2026, 12, 1, 12, 0, tzinfo=tz.utc)) == "2026-12-01 07:00 -05:00"


def test_an_unknown_display_time_zone_names_the_setting(settings: object) -> None:
    from datetime import datetime, timezone as tz

    from saleor_livedist.conf import ImproperlyConfigured
    from saleor_livedist.display import show

    settings.LIVEDIST = {**settings.LIVEDIST, "DISPLAY_TIME_ZONE": "Mars/Olympus"}  # type: ignore[attr-defined]
    with pytest.raises(ImproperlyConfigured, match="DISPLAY_TIME_ZONE"):
        show(datetime(2026, 12, 1, tzinfo=tz.utc))


def test_a_lives_reminder_offsets_are_checked_in_the_admin(staff: Client) -> None:
    from saleor_livedist.models import LiveSession

    form = {"title": "Night market", "host": "", "channel": "default", "scheduled_start_0": "2026-12-01",
            "scheduled_start_1": "20:00:00", "featured_products": "[]", "stream_url": "",
            "replays-TOTAL_FORMS": "0", "replays-INITIAL_FORMS": "0", "clips-TOTAL_FORMS": "0",
            "clips-INITIAL_FORMS": "0"}
    bad = staff.post("/admin/saleor_livedist/livesession/add/", {**form, "id": "l8", "reminder_offsets": "[0]"})
    assert bad.status_code == 200 and "from 1 to 1440, e.g. [30, 5]" in bad.content.decode()  # the form again
    assert not LiveSession.objects.filter(id="l8").exists()
    staff.post("/admin/saleor_livedist/livesession/add/", {**form, "id": "l9", "reminder_offsets": "[5, 60]"})
    assert LiveSession.objects.get(id="l9").reminder_offsets == [60, 5]
