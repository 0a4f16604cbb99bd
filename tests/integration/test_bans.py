"""A ban reaches the engine on PostgreSQL, through the service the console and the API use: an order paid while
the seller is banned pays their uplines their own levels and the seller nothing; after the unban a later order
pays the seller again; a redelivered ban event changes nothing; the pages and the API say so."""
from __future__ import annotations

import shutil
from collections.abc import Iterator
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from django.db import transaction
from django.test import Client
from django.utils import timezone

from saleor_livedist.core.events import parse_event
from saleor_livedist.distribution import services
from saleor_livedist.inbox import processing
from saleor_livedist.models import BanMark, Binding, InboxEvent, LedgerEntry
from saleor_livedist.rules.loader import default_rules_dir

pytestmark = pytest.mark.django_db(transaction=True)

TEAM = """schema: livedist/v1
commission:
  rates:
    - id: direct
      rate: 5
  team:
    - id: level-2
      level: 2
      rate: 2
    - id: level-3
      level: 3
      rate: 1
"""


@pytest.fixture(autouse=True)
def team_rules(settings: Any, tmp_path: Path) -> Iterator[None]:
    """Every level earns whatever its rank (5%, 2%, 1%), three levels."""
    rules = tmp_path / "rules"
    shutil.copytree(default_rules_dir(), rules)
    (rules / "commission.yaml").write_text(TEAM)
    policy = rules / "policy.yaml"
    policy.write_text(policy.read_text().replace("max_levels: 2", "max_levels: 3"))
    settings.LIVEDIST = {**getattr(settings, "LIVEDIST", {}), "RULES_DIR": str(rules)}
    processing.reset_rules_source()
    yield
    processing.reset_rules_source()


def send(etype: str, at: datetime, ident: str, **fields: Any) -> None:
    processing.submit({"id": ident, "type": etype, "at": at.isoformat(), **fields}, process=False)


@pytest.fixture
def network() -> datetime:
    """ann <- bob <- carol joined yesterday; cust clicked carol's link and is bound to her."""
    day = timezone.now() - timedelta(days=1)
    send("distributor.joined", day, "j-ann", customer="ann")
    send("link.clicked", day + timedelta(minutes=1), "c-bob", distributor="ann", visitor="bob",
         target={"product": "p-join"})
    send("distributor.joined", day + timedelta(minutes=2), "j-bob", customer="bob")
    send("link.clicked", day + timedelta(minutes=3), "c-carol", distributor="bob", visitor="carol",
         target={"product": "p-join"})
    send("distributor.joined", day + timedelta(minutes=4), "j-carol", customer="carol")
    send("link.clicked", day + timedelta(minutes=5), "c-cust", distributor="carol", visitor="cust",
         target={"product": "p-plain"})
    processing.process_pending()
    assert Binding.objects.get(identity="cust").distributor == "carol"
    return day


def buy(order: str, at: datetime, amount: str = "200.00") -> None:
    send("order.created", at, f"{order}-created", order=order, customer="cust", channel="default", currency="CNY",
         lines=[{"line": "1", "product": "p-plain", "amount": amount}])
    send("order.paid", at + timedelta(seconds=30), f"{order}-paid", order=order)
    processing.process_pending()


def earned(order: str) -> list[tuple[str, int, str, Decimal, str]]:
    return sorted((e.beneficiary, e.level, e.kind, e.amount, e.status)
                  for e in LedgerEntry.objects.filter(order=order))


def test_a_ban_through_the_service_withholds_the_seller_and_pays_the_uplines(network: datetime) -> None:
    buy("o-before", network + timedelta(hours=1))
    services.ban_distributor("carol", "orders from her own accounts", banned_by="user:1")
    processing.process_pending()
    mark = BanMark.objects.get()
    assert (mark.distributor, mark.banned, mark.reason) == ("carol", True, "orders from her own accounts")
    assert InboxEvent.objects.get(event_id=mark.event).status == "done" and mark.event.startswith("ban:")

    buy("o-banned", timezone.now() + timedelta(minutes=1))
    assert earned("o-banned") == [("ann", 3, "team", Decimal("2.00"), "pending"),
                                  ("bob", 2, "team", Decimal("4.00"), "pending")]
    assert earned("o-before") == [("ann", 3, "team", Decimal("2.00"), "pending"),  # booked before: kept
                                  ("bob", 2, "team", Decimal("4.00"), "pending"),
                                  ("carol", 1, "commission", Decimal("10.00"), "pending")]

    services.unban_distributor("carol", unbanned_by="user:1")
    processing.process_pending()
    buy("o-after", timezone.now() + timedelta(minutes=2), amount="100.00")
    assert earned("o-after") == [("ann", 3, "team", Decimal("1.00"), "pending"),
                                 ("bob", 2, "team", Decimal("2.00"), "pending"),
                                 ("carol", 1, "commission", Decimal("5.00"), "pending")]
    assert list(BanMark.objects.order_by("at").values_list("banned", flat=True)) == [True, False]

    services.ban_distributor("carol", "again")  # ban -> unban -> ban: a third mark, its own event
    processing.process_pending()
    assert BanMark.objects.count() == 3 and len(set(BanMark.objects.values_list("event", flat=True))) == 3


def test_a_redelivered_ban_event_is_a_no_op(network: datetime) -> None:
    services.ban_distributor("carol", "spam")
    processing.process_pending()
    buy("o1", timezone.now() + timedelta(minutes=1))
    before = earned("o1")
    ban = InboxEvent.objects.get(type="distributor.banned").payload
    assert processing.submit(dict(ban)) is False  # the inbox has it already
    with transaction.atomic():  # and the engine, handed it again directly, has processed it already
        processing._lock()
        processing.apply([parse_event(ban)])
    assert earned("o1") == before and BanMark.objects.count() == 1
    assert [b for b, *_ in before] == ["ann", "bob"]


def test_a_ban_event_processed_after_a_payment_dated_later_gives_the_same_ledger(network: datetime) -> None:
    """The ban's event reaches the inbox behind the events of an order paid a minute after the ban: the order is
    booked first (carol's share with it), then the ban, dated before the payment, takes her share back."""
    at = timezone.now() + timedelta(minutes=1)
    with transaction.atomic():  # processed at commit, in the order received
        services.ban_distributor("carol", "spam")
        InboxEvent.objects.filter(type="distributor.banned").update(received_at=timezone.now() + timedelta(hours=1))
        send("order.created", at, "o1-created", order="o1", customer="cust", channel="default", currency="CNY",
             lines=[{"line": "1", "product": "p-plain", "amount": "200.00"}])
        send("order.paid", at + timedelta(seconds=30), "o1-paid", order="o1")
    assert set(InboxEvent.objects.values_list("status", flat=True)) == {"done"}
    assert [b for b, *_ in earned("o1")] == ["ann", "bob"]


def test_a_banned_distributors_checkout_ref_binds_nobody(network: datetime) -> None:
    services.ban_distributor("bob", "spam")
    processing.process_pending()
    send("order.created", timezone.now() + timedelta(minutes=1), "n-created", order="n1", customer="newbie",
         channel="default", currency="CNY", lines=[{"line": "1", "product": "p-plain", "amount": "50.00"}], ref="bob")
    processing.process_pending()
    assert not Binding.objects.filter(identity="newbie").exists()


HELP = "Banning a distributor stops their share links at once."


def test_the_ban_form_says_what_a_ban_does_in_both_languages(network: datetime) -> None:
    from tests.integration.test_console import page, signed_in

    manager = signed_in("manager", superuser=True)
    html = page(manager, "distributors/")
    assert HELP in html and "their uplines keep their own levels and rates" in html
    from tests.i18n.test_translated import zh

    text = manager.get("/console/distributors/", HTTP_ACCEPT_LANGUAGE="zh-CN,zh;q=0.9").content.decode()
    assert zh(HELP) in text and HELP not in text


def test_the_migration_marks_the_bans_made_before_it_from_now_on() -> None:
    from django.db import connection
    from django.db.migrations.executor import MigrationExecutor

    app = "saleor_livedist"
    executor = MigrationExecutor(connection)
    leaf = executor.loader.graph.leaf_nodes(app)
    try:
        executor.migrate([(app, "0024_points_redemption")])
        old = executor.loader.project_state([(app, "0024_points_redemption")]).apps
        long_ago = timezone.now() - timedelta(days=30)
        old.get_model(app, "DistributorBan").objects.create(distributor="carol", reason="spam", banned_at=long_ago)
        before = timezone.now()
        executor = MigrationExecutor(connection)
        executor.migrate([(app, "0025_mark_earlier_bans")])
        marks = executor.loader.project_state([(app, "0025_mark_earlier_bans")]).apps.get_model(app, "BanMark")
        [mark] = marks.objects.all()
        assert (mark.distributor, mark.banned, mark.reason) == ("carol", True, "spam")
        assert mark.at >= before  # from the upgrade on: what was booked meanwhile is not taken back
    finally:
        MigrationExecutor(connection).migrate(leaf)
