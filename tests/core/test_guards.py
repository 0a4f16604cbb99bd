"""The rules' guards against farmed invitees, in the engine (the share-link endpoint's limits are tested in
tests/integration/test_guards.py): only customers count as invitees by default, and past a distributor's daily
limit invitees are held until staff review them."""
from __future__ import annotations

from pathlib import Path

import pytest

from saleor_livedist.exceptions import RuleFileError
from saleor_livedist.rules.loader import default_rules_dir, load_rules_from_texts
from saleor_livedist.rules.model import RuleSet
from tests.builders import Stream, points, run

TASK = """schema: livedist/v1
tasks:
  - id: invite-watcher
    scope: live
    qualify: {watched_minutes: 5}
    each: {points: 5}
"""


def rules(guards: str = "", tasks: str = TASK) -> RuleSet:
    files = {p.name: p.read_text() for p in Path(default_rules_dir()).glob("*.yaml")}
    files["tasks.yaml"] = tasks
    if guards:
        files["guards.yaml"] = f"schema: livedist/v1\nguards:\n{guards}"
    return load_rules_from_texts(files)


def watchers(s: Stream, names: list[str], signed_in: bool = True, start: float = 1) -> None:
    for name in names:
        s.click("bob", name, minute=-10, live="L1")
        s.watch("L1", name, start=start, minutes=6, signed_in=signed_in)


def network() -> Stream:
    s = Stream()
    s.distributor("bob")
    s.live("L1", start=0, end=600)
    return s


def test_anonymous_viewers_count_only_once_they_are_customers(backend: str) -> None:
    s = network()
    watchers(s, ["visitor-a", "visitor-b"], signed_in=False)
    watchers(s, ["amy"])  # signed in: counts at once
    assert points(run(s, backend, rules()), "bob") == 5
    s.add("customer.registered", 30, customer="ann", visitor="visitor-a")  # visitor-a signs up afterwards
    engine = run(s, backend, rules())
    assert points(engine, "bob") == 10
    assert sorted(g.invitee for g in engine.store.points()) == ["amy", "ann"]
    assert points(run(s, backend, rules("  invitees: anyone\n")), "bob") == 15  # the merchant's choice


def test_a_buyer_is_a_customer(backend: str) -> None:
    s = network()
    watchers(s, ["guest-1"], signed_in=False)
    s.order("o1", "guest-1", minute=20)
    assert points(run(s, backend, rules()), "bob") == 5


def test_past_the_daily_limit_invitees_are_held_until_staff_decide(backend: str) -> None:
    s = network()
    watchers(s, [f"v{n}" for n in range(4)])
    engine = run(s, backend, rules("  invitees_per_distributor_per_day: 2\n"))
    assert points(engine, "bob") == 10
    held = engine.store.held_invitees()
    assert [(h.invitee, h.inviter, h.task, h.status) for h in held] == [
        ("v2", "bob", "invite-watcher", "held"), ("v3", "bob", "invite-watcher", "held")]
    s.add("invitee.reviewed", 100, held=held[0].key, decision="approve", by="user:1")
    s.add("invitee.reviewed", 101, held=held[1].key, decision="reject")
    s.add("invitee.reviewed", 102, held=held[0].key, decision="reject")  # decided already: a notice
    engine = run(s, backend, rules("  invitees_per_distributor_per_day: 2\n"))
    assert points(engine, "bob") == 15
    grant = engine.store.get_points(held[0].key)
    assert grant is not None and grant.invitee == "v2" and grant.at.isoformat() == s.raw[-3]["at"]
    assert [h.status for h in engine.store.held_invitees()] == ["approved", "rejected"]
    assert any("already approved" in n for n in engine.notices)


def test_the_day_of_the_limit_is_the_rules_time_zone(backend: str) -> None:
    """The live is at 20:00 in UTC+8: 23:58 and 00:02 there are two days in Asia/Shanghai, one day in UTC."""
    s = network()
    watchers(s, ["v1", "v2"], start=232)  # qualify at 23:58 (UTC+8)
    watchers(s, ["v3", "v4"], start=236)  # qualify at 00:02 the next day (UTC+8), still 16:02 in UTC
    limit = "  invitees_per_distributor_per_day: 2\n"
    assert points(run(s, backend, rules(limit + "  time_zone: Asia/Shanghai\n")), "bob") == 20
    assert points(run(s, backend, rules(limit)), "bob") == 10


def test_a_live_task_target_above_the_daily_limit_is_refused() -> None:
    with pytest.raises(RuleFileError) as caught:
        rules("  invitees_per_distributor_per_day: 5\n", tasks=(Path(default_rules_dir()) / "tasks.yaml").read_text())
    assert [p.code for p in caught.value.problems] == ["LD211"]
    assert "needs 10 invitees" in caught.value.problems[0].message
    assert rules("  invitees_per_distributor_per_day: unlimited\n").guards.invitees_per_distributor_per_day is None


@pytest.mark.parametrize(("guards", "code"), [
    ("  time_zone: Mars/Olympus\n", "LD212"),
    ("  invitees: everybody\n", "LD104"),
    ("  clicks_per_source_per_day: 0\n", "LD105"),
    ("  clicks_per_visitor_per_day: lots\n", "LD104"),
])
def test_bad_guards_are_refused_with_a_code(guards: str, code: str) -> None:
    with pytest.raises(RuleFileError) as caught:
        rules(guards)
    assert [p.code for p in caught.value.problems] == [code]
