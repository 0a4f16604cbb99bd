"""The merchant's console on the sandbox, with the sample live session played into the database: every page
answers staff and refuses others (401 signed out, 403 without the permission), every action changes state
through the same service as the API and shows that service's errors on the page."""
from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.test import Client, RequestFactory

from saleor_livedist.console import csrf
from saleor_livedist.console.access import ALL_PERMISSIONS, Staff
from saleor_livedist.distribution import services
from saleor_livedist.distribution.links import LinkError
from saleor_livedist.exceptions import ServiceError
from saleor_livedist.inbox import processing
from saleor_livedist.models import DistributorBan, InboxEvent, LedgerEntry, RuleVersion
from saleor_livedist.sandbox import demo

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def fresh_rules() -> Any:
    processing.reset_rules_source()  # published tasks live in the database each test flushes
    yield
    processing.reset_rules_source()


@pytest.fixture
def people() -> dict[str, str]:
    """The sample live session, as `livedist demo` plays it: name -> identity."""
    return demo.play()[0]


def signed_in(username: str, superuser: bool = False, staff: bool = True, perms: tuple[str, ...] = ()) -> Client:
    users = get_user_model()
    user = (users.objects.create_superuser(username, f"{username}@shop.example", "pw") if superuser
            else users.objects.create_user(username, f"{username}@shop.example", "pw", is_staff=staff))
    for perm in perms:
        app, codename = perm.split(".")
        user.user_permissions.add(Permission.objects.get(content_type__app_label=app, codename=codename))
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def manager() -> Client:
    return signed_in("manager", superuser=True)


def page(client: Client, path: str, expect: int = 200, **query: str) -> str:
    response = client.get("/console/" + path, query)
    assert response.status_code == expect, (path, response.status_code, response.content[:500])
    return response.content.decode()


def token(client: Client) -> str:
    """The console's form token for the client's staff member and session (what the pages' forms carry)."""
    from types import SimpleNamespace

    from django.contrib.auth import SESSION_KEY

    session = client.session
    request = SimpleNamespace(session=SimpleNamespace(session_key=session.session_key))
    staff = Staff(id=f"user:{session[SESSION_KEY]}", email="", name="", language="en", permissions=frozenset())
    return csrf.token_for(request, staff)  # type: ignore[arg-type]


def post(client: Client, path: str, data: dict[str, Any], status: int = 200, with_token: bool = True) -> str:
    form = {**data, **({"csrf": token(client)} if with_token else {})}
    response = client.post("/console/" + path, form)
    assert response.status_code == status, (path, response.status_code, response.content[:2000])
    return response.content.decode()


def section(html: str, pattern: str) -> str:
    found = re.search(pattern, html, re.S)
    assert found, f"nothing matches {pattern}"
    return found.group(1)


def row(html: str, identity: str) -> str:
    found = re.search(rf'<tr data-id="{re.escape(identity)}">(.*?)</tr>', html, re.S)
    assert found, f"no row for {identity}"
    return found.group(1)


# ---------------------------------------------------------------------- who may use it


def test_signed_out_is_asked_to_sign_in_at_the_admin(client: Client) -> None:
    html = page(client, "distributors/", 401)
    assert "Sign in as staff" in html and 'href="/admin/login/?next=/console/distributors/"' in html


def test_a_customer_and_staff_without_the_permission_are_refused(people: dict[str, str]) -> None:
    assert "Manage orders" in page(signed_in("cust", staff=False), "distributors/", 403)
    assert "Manage orders" in page(signed_in("clerk"), "distributors/", 403)


def failed_event() -> InboxEvent:
    return InboxEvent.objects.create(
        event_id="late", type="order.fulfilled", at="2026-11-21T10:00:00+08:00",
        payload={"id": "late", "type": "order.fulfilled", "at": "2026-11-21T10:00:00+08:00", "order": "o-201"},
        status=InboxEvent.FAILED, attempts=3, error="RuntimeError: database was away")


def test_the_forms_carry_the_console_token(manager: Client, people: dict[str, str]) -> None:
    failed_event()
    carried = section(page(manager, "events/"), r'name="csrf" value="([^"]+)"')
    response = manager.post("/console/events/rerun", {"event": "late", "csrf": carried})
    assert response.status_code == 200 and InboxEvent.objects.get(event_id="late").status == InboxEvent.DONE


def test_a_post_without_the_console_token_or_with_another_staff_members_is_refused(
        manager: Client, people: dict[str, str]) -> None:
    failed_event()
    assert "expired" in post(manager, "events/rerun", {"event": "late"}, 403, with_token=False)
    other = signed_in("other", superuser=True)
    response = manager.post("/console/events/rerun", {"event": "late", "csrf": token(other)})
    assert response.status_code == 403 and InboxEvent.objects.get(event_id="late").status == InboxEvent.FAILED


def test_inside_saleor_the_console_refuses_everyone_until_the_app_token_is_wired() -> None:
    from saleor_livedist.console.access import refuse_everyone
    from saleor_livedist.web.endpoints import handle

    request = RequestFactory().get("/plugins/global/saleor_livedist/console/distributors/")
    response = handle(request, "console/distributors/", lambda r: None)
    assert response.status_code == 401
    response = handle(request, "console/distributors/", lambda r: None, authenticate_staff=refuse_everyone)
    assert response.status_code == 401 and b"Sign in" in response.content


def test_pages_are_mounted_wherever_the_plugin_is(people: dict[str, str]) -> None:
    from saleor_livedist.console.views import handle

    staff = Staff(id="user:1", email="a@b.c", name="Ann", language="en", permissions=ALL_PERMISSIONS)
    request = RequestFactory().get("/plugins/global/saleor_livedist/console/distributors/")
    html = handle(request, "distributors/", lambda r: staff).content
    assert b'href="/plugins/global/saleor_livedist/console/events/"' in html


PAGES = ["distributors/", "ledger/", "ledger.csv", "events/", "rules/", "lives/", "lives/live-1/", "tasks/",
         "coupons/", "coupons/autumn200/", "reminders/", "questions/"]


def test_every_page_answers_staff_and_refuses_everyone_else(manager: Client, people: dict[str, str]) -> None:
    clerk, signed_out = signed_in("clerk"), Client()
    for path in PAGES:
        assert manager.get("/console/" + path).status_code == 200, path
        assert signed_out.get("/console/" + path).status_code == 401, path
        assert clerk.get("/console/" + path).status_code == 403, path
    assert manager.get("/console/nowhere/").status_code == 404
    assert manager.get("/console/").status_code == 302


def test_the_staff_members_language_is_used(manager: Client, people: dict[str, str]) -> None:
    html = manager.get("/console/distributors/", HTTP_ACCEPT_LANGUAGE="zh-CN,zh;q=0.9").content.decode()
    assert '<html lang="zh-hans">' in html and "<h2>分销员</h2>" in html and "已批准" in html
    assert "CNY 49.86" in row(html, people["bob"])  # money is written the same way in both languages
    assert "请以工作人员身份登录后使用控制台。" in Client().get("/console/ledger/",
                                                            HTTP_ACCEPT_LANGUAGE="zh-CN").content.decode()
    assert '<html lang="en">' in manager.get("/console/distributors/", HTTP_ACCEPT_LANGUAGE="en").content.decode()


# ---------------------------------------------------------------------- distributors


def test_distributors_with_rank_upline_and_balances(manager: Client, people: dict[str, str]) -> None:
    html = page(manager, "distributors/")
    bob, carol = row(html, people["bob"]), row(html, people["carol"])
    # bob's balances as the demo prints them: pending 49.86, approved 58.76, reversed 41.35 (CNY)
    assert "leader" in bob and "CNY 49.86" in bob and "CNY 58.76" in bob and "CNY 41.35" in bob
    assert "bob (b***@example.com)" in carol and "carol (c***@example.com)" in carol


def test_distributors_are_found_by_e_mail_and_name(manager: Client, people: dict[str, str]) -> None:
    html = page(manager, "distributors/", q="carol@example.com")
    assert people["carol"] in html and f'data-id="{people["bob"]}"' not in html
    html = page(manager, "distributors/", q="bo")
    assert f'data-id="{people["bob"]}"' in html and f'data-id="{people["carol"]}"' not in html
    assert "No distributor matches." in page(manager, "distributors/", q="nobody-here")


def test_console_tokens_are_tied_to_the_staff_member() -> None:
    ann = Staff(id="user:1", email="", name="Ann", language="en", permissions=ALL_PERMISSIONS)
    ben = Staff(id="user:2", email="", name="Ben", language="en", permissions=ALL_PERMISSIONS)
    request = RequestFactory().post("/console/x", {"csrf": csrf.token_for(RequestFactory().get("/"), ann)})
    assert csrf.is_valid(request, ann) and not csrf.is_valid(request, ben)


# ---------------------------------------------------------------------- banning


def test_viewing_without_manage_users_shows_no_ban_and_refuses_one(people: dict[str, str]) -> None:
    viewer = signed_in("viewer", perms=("saleor_livedist.view_ledgerentry",))
    html = page(viewer, "distributors/")
    assert "bob" in html and ">Ban<" not in html
    assert "Manage customers" in post(viewer, "distributors/ban", {"distributor": people["bob"], "reason": "x"}, 403)
    assert not DistributorBan.objects.exists()


def test_a_ban_goes_through_the_service_and_is_lifted(manager: Client, people: dict[str, str]) -> None:
    bob = people["bob"]
    link = services.create_share_link(bob, "live", "live-1")
    html = post(manager, "distributors/ban?q=bob", {"distributor": bob, "reason": "fake orders"})
    assert "bob (b***@example.com) is banned." in html and "fake orders" in row(html, bob)
    assert DistributorBan.objects.get(distributor=bob).banned_by.startswith("user:")
    with pytest.raises(ServiceError, match="banned"):
        services.create_share_link(bob, "live", "live-1")
    with pytest.raises(LinkError, match="withdrawn"):
        services.record_click(link.token, None)
    assert manager.get(f"/click/{link.token}").status_code == 410
    assert "banned already" in post(manager, "distributors/ban", {"distributor": bob, "reason": "again"}, 400)
    assert page(manager, "distributors/", state="banned").count("<tr data-id=") == 1
    html = post(manager, "distributors/unban", {"distributor": bob})
    assert "is no longer banned." in html and not DistributorBan.objects.exists()
    services.record_click(link.token, None)  # works again
    assert "is not banned" in post(manager, "distributors/unban", {"distributor": bob}, 400)


def test_the_services_refusals_are_shown_on_the_page(manager: Client, people: dict[str, str]) -> None:
    html = post(manager, "distributors/ban", {"distributor": people["bob"], "reason": "  "}, 400)
    assert "reason: say why the distributor is banned" in html
    html = post(manager, "distributors/ban", {"distributor": "user:999999", "reason": "x"}, 400)
    assert "there is no distributor user:999999" in html
    assert not DistributorBan.objects.exists()


def test_the_api_bans_through_the_same_service(people: dict[str, str]) -> None:
    from tests.integration.test_api import gql, user

    boss, client = user("chief", staff=True), Client()
    ban = "mutation($d: String!, $r: String!) { distributorBan(distributor: $d, reason: $r) { distributor { id } " \
          "errors { field code message } } }"
    result = gql(client, ban, boss, d=people["bob"], r="")["data"]["distributorBan"]
    assert result["errors"] == [{"field": "reason", "code": "REQUIRED",
                                 "message": "say why the distributor is banned (1 to 500 characters)"}]
    result = gql(client, ban, boss, d=people["bob"], r="spam")["data"]["distributorBan"]
    assert result == {"distributor": {"id": people["bob"]}, "errors": []}
    assert DistributorBan.objects.get().reason == "spam"
    assert gql(client, ban, user("amy"), d=people["carol"], r="x")["data"]["distributorBan"]["errors"][0][
        "code"] == "PERMISSION_DENIED"


# ---------------------------------------------------------------------- events


def test_failed_events_are_listed_with_their_error_and_re_run(manager: Client, people: dict[str, str]) -> None:
    failed_event()
    html = page(manager, "events/")
    assert "database was away" in html and "failed: 1" in html and html.count("<tr data-id=") == 1
    assert "order.paid" in page(manager, "events/", status="done", type="order.paid")
    assert 'data-id="late"' in page(manager, "events/", status="all", q="o-201")
    html = post(manager, "events/rerun", {"event": ["late", "nope"]})
    assert "1 event queued again. 1 skipped: only failed events are re-run." in html
    assert InboxEvent.objects.get(event_id="late").status == InboxEvent.DONE
    assert "Choose at least one failed event" in post(manager, "events/rerun", {}, 400)


# ---------------------------------------------------------------------- the ledger


def ledger_rows(html: str) -> list[str]:
    return re.findall(r"<tr data-order=.*?</tr>", html, re.S)


def test_the_ledger_shows_each_entry_with_its_provenance(manager: Client, people: dict[str, str],
                                                         settings: Any) -> None:
    settings.LIVEDIST = {**settings.LIVEDIST, "DISPLAY_TIME_ZONE": "Asia/Shanghai"}
    version = RuleVersion.objects.get(active=True).version
    rows = ledger_rows(page(manager, "ledger/", order="o-201"))
    assert len(rows) == 4
    commission = next(r for r in rows if f'data-beneficiary="{people["bob"]}"' in r and "commission" in r)
    # bob's 14% (10 live + 2 first hour + 2 task) of 399.00, booked when the order was placed at 20:31 in Shanghai
    for text in ("2026-11-20 20:31 +08:00", "14%", "CNY 55.86", "approved", "bob (b***@example.com)",
                 "live-featured, first-live-hour, task:ten-watchers", f"rules/{version}/", "order.created"):
        assert text in commission, text
    refund = next(r for r in rows if f'data-beneficiary="{people["bob"]}"' in r and "adjustment" in r)
    # 100.00 of the line refunded: 14% of it comes off
    assert "CNY -14.00" in refund and "order.refunded" in refund and "q=demo-071" in refund
    assert "2026-11-24 09:00 +08:00" in refund


def test_the_ledger_is_filtered_by_person_status_and_version(manager: Client, people: dict[str, str]) -> None:
    html = page(manager, "ledger/", q="carol@example.com")
    assert set(re.findall(r'data-beneficiary="([^"]+)"', html)) == {people["carol"]}
    pending = ledger_rows(page(manager, "ledger/", q="bob", status="pending"))
    assert pending and all("pending" in r for r in pending)
    assert "No entry matches." in page(manager, "ledger/", version="nope")
    totals = section(page(manager, "ledger/", q="bob@example.com"), r'<p id="totals">(.*?)</p>')
    # bob's balances, as the demo prints them
    assert "approved: CNY 58.76" in totals and "pending: CNY 49.86" in totals and "reversed: CNY 41.35" in totals


def test_the_ledger_as_csv(manager: Client, people: dict[str, str]) -> None:
    import csv
    import io

    response = manager.get("/console/ledger.csv", {"order": "o-201"})
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    text = b"".join(response.streaming_content).decode("utf-8")  # type: ignore[attr-defined]
    assert text.startswith("\ufeff")
    rows = list(csv.DictReader(io.StringIO(text[1:])))
    assert len(rows) == 4
    bob = {r["kind"]: r for r in rows if r["beneficiary"] == people["bob"]}
    assert bob["commission"] | {} == {
        "at": "2026-11-20T12:31:00+00:00", "order": "o-201", "line": "1", "beneficiary": people["bob"],
        "name": "bob (b***@example.com)", "kind": "commission", "level": "1", "percent": "14", "amount": "55.86",
        "currency": "CNY", "status": "approved", "rule_ids": "live-featured first-live-hour task:ten-watchers",
        "rules_version": RuleVersion.objects.get(active=True).version, "event_type": "order.created", "event_id": ""}
    assert (bob["adjustment"]["amount"], bob["adjustment"]["event_type"], bob["adjustment"]["event_id"]) == (
        "-14.00", "order.refunded", "demo-071")
    everything = b"".join(manager.get("/console/ledger.csv").streaming_content).decode()  # type: ignore[attr-defined]
    assert everything.count("\n") == 1 + LedgerEntry.objects.count()


# ---------------------------------------------------------------------- rule versions


def second_version() -> tuple[RuleVersion, RuleVersion]:
    active = RuleVersion.objects.get(active=True)
    name = next(n for n in active.files if n.endswith("commission.yaml"))
    older = RuleVersion.objects.create(
        version="0ld0ld0ld0ld0ld0", first_seen=active.first_seen - timedelta(days=1),
        files={**active.files, name: active.files[name].replace("rate: 10", "rate: 8", 1)})
    RuleVersion.objects.create(version="rejected-abc", files={}, problems=[
        "commission.yaml:3:5: unknown key 'rat'; did you mean 'rate'? [LD102]"])
    return older, active


def test_rule_versions_with_their_problems_and_entries(manager: Client, people: dict[str, str]) -> None:
    older, active = second_version()
    html = page(manager, "rules/")
    current = section(html, rf'<tr data-version="{active.version}">(.*?)</tr>')
    assert "active" in current and "commission.yaml" in current and f">{LedgerEntry.objects.count()}<" in current
    rejected = section(html, r'<tr data-version="rejected-abc">(.*?)</tr>')
    assert "rejected" in rejected and "1 problem" in rejected and "did you mean &#x27;rate&#x27;?" in rejected
    detail = page(manager, f"rules/{active.version}/")
    assert "live-featured" in detail and "published/live-1/live-1-two-buyers.yaml" in detail
    assert "There is no rules version nope." in page(manager, "rules/nope/", 404)


def test_a_diff_between_two_versions(manager: Client, people: dict[str, str]) -> None:
    older, active = second_version()
    assert "rate: 10" in next(t for n, t in active.files.items() if n.endswith("commission.yaml"))
    html = page(manager, "rules/diff", a=older.version, b=active.version)
    assert '<span class="del">-' in html and "rate: 8" in html and '<span class="add">+' in html
    assert "tasks.yaml" not in html  # unchanged files are not shown
    assert "The two versions have the same files." in page(manager, "rules/diff", a=active.version, b=active.version)
    assert "not found: nope" in page(manager, "rules/diff", 404, a="nope", b=active.version)


# ---------------------------------------------------------------------- lives


def test_lives_with_their_replay_clips_and_leaderboard(manager: Client, people: dict[str, str]) -> None:
    assert "Autumn dresses, live" in row(page(manager, "lives/"), "live-1")
    html = page(manager, "lives/live-1/")
    assert "replay-1" in html and "clip-blue-dress" in html and "The blue dress, close up" in html
    board = section(html, r'<section id="board">(.*?)</section>')
    assert "bob (b***@example.com)" in board and "CNY " in board
    assert "Start now" not in html and "End now" not in html  # it has ended
    assert "There is no live nope." in page(manager, "lives/nope/", 404)


def test_a_live_is_scheduled_started_and_ended_through_the_services(
        manager: Client, people: dict[str, str], settings: Any) -> None:
    from saleor_livedist.models import LiveClip, LiveReplay, LiveSession

    settings.LIVEDIST = {**settings.LIVEDIST, "DISPLAY_TIME_ZONE": "Asia/Shanghai"}
    form = {"id": "l9", "title": "Night market", "scheduled_start": "2026-12-05T20:00",
            "featured_products": "p-dress, p-scarf", "channel": "default"}
    html = post(manager, "lives/schedule", form)
    assert "The live l9 is scheduled." in html and "2026-12-05 20:00 +08:00" in html and "Start now" in html
    live = LiveSession.objects.get(id="l9")
    assert live.scheduled_start.isoformat() == "2026-12-05T12:00:00+00:00"
    assert live.featured_products == ["p-dress", "p-scarf"]
    assert InboxEvent.objects.filter(event_id="live:l9:scheduled").exists()
    again = post(manager, "lives/schedule", {**form, "title": "Second try"}, 400)
    assert "a live with id &#x27;l9&#x27; exists already" in again and 'value="Second try"' in again
    assert "enter a date and time" in post(manager, "lives/schedule", {**form, "id": "l10",
                                                                       "scheduled_start": "soon"}, 400)
    assert "The live is on air." in post(manager, "lives/l9/start", {})
    assert LiveSession.objects.get(id="l9").status == "live"
    assert "only a scheduled live can start" in post(manager, "lives/l9/start", {}, 400)
    assert "a clip ends after it starts" in post(manager, "lives/l9/clip", {
        "clip_id": "c1", "start_seconds": "60", "end_seconds": "30"}, 400)
    assert "The clip is published." in post(manager, "lives/l9/clip", {
        "clip_id": "c1", "title": "Opening", "start_seconds": "0", "end_seconds": "30"})
    assert LiveClip.objects.get(id="c1").live_id == "l9"
    assert "The live has ended." in post(manager, "lives/l9/end", {})
    assert "The replay is published." in post(manager, "lives/l9/replay", {
        "replay_id": "r9", "url": "https://live.example.com/r9.m3u8"})
    assert LiveReplay.objects.get(id="r9").live_id == "l9"


def test_lives_are_run_only_with_manage_products(people: dict[str, str]) -> None:
    from saleor_livedist.models import LiveSession

    LiveSession.objects.create(id="l8", title="Later", scheduled_start="2026-12-06T12:00:00+00:00")
    viewer = signed_in("viewer", perms=("saleor_livedist.view_ledgerentry",))
    assert "Start now" not in page(viewer, "lives/l8/") and "Schedule a live" not in page(viewer, "lives/")
    assert "Manage products" in post(viewer, "lives/l8/start", {}, 403)
    assert LiveSession.objects.get(id="l8").status == "scheduled"
    editor = signed_in("editor", perms=("saleor_livedist.view_ledgerentry", "saleor_livedist.change_livesession"))
    assert "The live is on air." in post(editor, "lives/l8/start", {})


# ---------------------------------------------------------------------- tasks, coupons, reminders, questions


def scheduled(live: str = "l9") -> None:
    from datetime import datetime, timezone

    from saleor_livedist.live_room.lives import schedule_live

    schedule_live(live, "Night market", datetime(2026, 12, 5, 12, tzinfo=timezone.utc), ["p-dress"])


def test_published_tasks_with_progress_publish_and_withdraw(manager: Client, people: dict[str, str]) -> None:
    from saleor_livedist.models import PublishedTask

    # bob and carol each had two invitees buy: both done, 20 points each
    task = row(page(manager, "tasks/"), "live-1-two-buyers")
    assert re.findall(r'<td class="num">(\d+)</td>', task) == ["2", "2", "40"]
    scheduled()
    form = {"live": "l9", "task_id": "l9-buyers", "ordered": "1", "target": "2", "reward_points": "10"}
    assert "The task l9-buyers is published." in post(manager, "tasks/publish", form)
    assert "ordered: true" in PublishedTask.objects.get(task_id="l9-buyers").document
    assert "was published already" in post(manager, "tasks/publish", form, 400)
    bad = post(manager, "tasks/publish", {**form, "task_id": "l9-bad", "watched_minutes": "-5"}, 400)
    assert "watched_minutes" in bad and not PublishedTask.objects.filter(task_id="l9-bad").exists()
    assert "enter a whole number" in post(manager, "tasks/publish", {**form, "target": "two"}, 400)
    assert "is withdrawn" in post(manager, "tasks/withdraw", {"task_id": "l9-buyers"})
    assert PublishedTask.objects.get(task_id="l9-buyers").withdrawn_at is not None


def test_live_coupons_with_their_codes_and_creation(manager: Client, people: dict[str, str]) -> None:
    from saleor_livedist.models import LiveCoupon, SandboxVoucher

    coupon = row(page(manager, "coupons/"), "autumn200")
    assert "Spend 200, save 50" in coupon and "CNY 50.00" in coupon and "CNY 200.00" in coupon
    codes = page(manager, "coupons/autumn200/")
    assert "BOB-AUTUMN" in codes and "bob (b***@example.com)" in codes and "CAROL-AUTUMN" in codes
    scheduled()
    form = {"live": "l9", "coupon_id": "l9-off", "title": "100 off", "kind": "fixed", "value": "100",
            "currency": "CNY", "min_spent": "50"}
    assert "must be at least the amount off" in post(manager, "coupons/create", form, 400)
    assert "at most 100 (percent off)" in post(manager, "coupons/create", {**form, "kind": "percent",
                                                                            "value": "150"}, 400)
    assert "is created, with its store voucher" in post(manager, "coupons/create", {**form, "min_spent": "300"})
    made = LiveCoupon.objects.get(id="l9-off")
    assert SandboxVoucher.objects.filter(pk=made.voucher).exists()
    discounts_only = signed_in("promo", perms=("saleor_livedist.view_ledgerentry",))
    assert "Manage discounts" in post(discounts_only, "coupons/create", {**form, "coupon_id": "x"}, 403)


def test_reminders_are_listed_with_their_outcome(manager: Client, people: dict[str, str]) -> None:
    from saleor_livedist.models import LiveSession, Reminder

    live = LiveSession.objects.get(id="live-1")
    Reminder.objects.create(live=live, person=people["dave"], channel="by_email", status="sent")
    Reminder.objects.create(live=live, person=people["erin"], status="failed", error="SMTP refused")
    html = page(manager, "reminders/")
    assert "sent: 1" in html and "failed: 1" in html and "SMTP refused" in html and "dave (d***@example.com)" in html
    assert "SMTP refused" not in page(manager, "reminders/", status="sent")


def test_the_question_queue_is_answered_through_the_service(manager: Client, people: dict[str, str]) -> None:
    from saleor_livedist.live_room.questions import ask_question
    from saleor_livedist.models import LiveQuestion

    scheduled()
    question = ask_question("l9", people["bob"], "Please show the blue dress")
    html = page(manager, "questions/")
    assert "Please show the blue dress" in row(html, str(question.id)) and "Mark answered" in html
    assert "Answered: Please show the blue dress" in post(manager, "questions/answer", {"question": question.id})
    assert LiveQuestion.objects.get().status == "answered"
    assert "No question here." in page(manager, "questions/")
    assert "no such question" in post(manager, "questions/answer", {"question": "999999"}, 400)
