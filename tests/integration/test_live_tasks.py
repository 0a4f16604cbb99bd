"""Invite tasks staff publish for one live: checked with the rule files as one rule set, counted for that live
only, rewarded exactly once, picked up by every process, withdrawn without touching what was granted."""
from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone
from ruamel.yaml import YAML

from saleor_livedist.inbox import processing
from saleor_livedist.db.published_tasks import OVERLAY
from saleor_livedist.models import PointsGrant, PublishedTask, RuleVersion
from saleor_livedist.rules.loader import default_rules_dir
from saleor_livedist.rules.provider import DirectoryRules
from tests.integration.test_api import gql, join, user
from tests.integration.test_lives import SCHEDULE, START, TASKS, staff

pytestmark = pytest.mark.django_db(transaction=True)

PUBLISH = """mutation($live: String!, $id: String!, $target: Int, $points: Int, $minutes: Int) {
  liveTaskPublish(live: $live, id: $id, watchedMinutes: $minutes, target: $target, rewardPoints: $points,
                  description: "3 invitees who watch 2 minutes") {
    task { id live document withdrawnAt } errors { field code message } } }"""
WITHDRAW = "mutation($id: String!) { liveTaskWithdraw(id: $id) { task { id withdrawnAt } errors { code } } }"


@pytest.fixture(autouse=True)
def fresh_rules() -> Iterator[None]:
    processing.reset_rules_source()  # published tasks live in the database this test flushes
    yield
    processing.reset_rules_source()


def _live(client: Client, boss: Any, live_id: str) -> None:
    start = (timezone.now() + timedelta(hours=1)).isoformat()
    assert gql(client, SCHEDULE, boss, id=live_id, start=start)["data"]["liveSchedule"]["errors"] == []


def _watchers(distributor: str, live: str, count: int, minutes: int, first: int = 0) -> None:
    """`count` viewers click the distributor's link to the live, join it, and watch `minutes` (a heartbeat a minute)."""
    start = timezone.now() - timedelta(minutes=30)
    for n in range(first, first + count):
        viewer = f"visitor:{live}-{n}"
        at = start + timedelta(seconds=n)
        events = [
            {"id": f"k-{live}-{n}", "type": "link.clicked", "at": at.isoformat(), "distributor": distributor,
             "visitor": viewer, "target": {"live": live}},
            {"id": f"j-{live}-{n}", "type": "live.joined", "at": at.isoformat(), "live": live, "viewer": viewer,
             "signed_in": True},  # signed-in customers: who counts as an invitee under the default guards
        ]
        events += [{"id": f"h-{live}-{n}-{m}", "type": "live.heartbeat", "live": live, "viewer": viewer,
                    "at": (at + timedelta(minutes=m)).isoformat()} for m in range(1, minutes + 1)]
        for event in events:
            processing.submit(event)


def test_a_published_task_counts_for_its_live_only_and_rewards_once() -> None:
    client, boss, amy = Client(), staff(), user("amy")
    join(client, amy)
    amy_id = "user:%d" % amy.pk
    _live(client, boss, "l1")
    _live(client, boss, "l2")
    version_before = processing.rules_source().current().version
    published = gql(client, PUBLISH, boss, live="l1", id="l1-three", target=3, points=30, minutes=2)
    task = published["data"]["liveTaskPublish"]
    assert task["errors"] == [] and task["task"]["live"] == "l1"
    assert YAML(typ="safe").load(task["task"]["document"])["tasks"] == [{
        "id": "l1-three", "description": "3 invitees who watch 2 minutes", "scope": "live", "lives": ["l1"],
        "qualify": {"watched_minutes": 2}, "target": 3, "reward": {"points": 30}}]
    active = processing.rules_source().current()
    assert active.version != version_before  # the task is part of the rules version
    assert active.ruleset.task("l1-three") is not None
    for live in ("l1", "l2"):
        assert gql(client, START, boss, id=live)["data"]["liveStart"]["errors"] == []
    _watchers(amy_id, "l1", 4, minutes=3)  # 4 qualify in l1: the target of 3 is reached once
    _watchers(amy_id, "l2", 5, minutes=3)  # nothing for l1's task from l2
    grants = PointsGrant.objects.filter(beneficiary=amy_id, rule_ids=["l1-three"])
    assert [(g.live, g.points) for g in grants] == [("l1", 30)]
    assert grants.get().rules_version == active.version
    tasks = {t["task"]: t for t in gql(client, TASKS, amy, live="l1")["data"]["me"]["tasks"]}
    assert (tasks["l1-three"]["qualified"], tasks["l1-three"]["target"], tasks["l1-three"]["points"]) == (4, 3, 30)
    assert "l1-three" not in {t["task"] for t in gql(client, TASKS, amy, live="l2")["data"]["me"]["tasks"]}
    processing.record_rule_version(processing.rules_source())
    kept = RuleVersion.objects.get(version=active.version).files
    assert kept["published/l1/l1-three.yaml"] == PublishedTask.objects.get().document


def test_a_task_the_rules_would_reject_is_refused_with_the_loaders_words_and_nothing_is_kept() -> None:
    client, boss, amy = Client(), staff(), user("amy")
    _live(client, boss, "l1")
    clash = gql(client, PUBLISH, boss, live="l1", id="invite-watcher", target=3, points=30, minutes=2)
    errors = clash["data"]["liveTaskPublish"]["errors"]
    assert [e["code"] for e in errors] == ["LD201"]  # the id of a task in the default rule files
    assert errors[0]["message"].startswith("published/l1/invite-watcher.yaml:")
    assert "duplicate id 'invite-watcher'" in errors[0]["message"]
    bad = gql(client, PUBLISH, boss, live="l1", id="Bad Id", target=0, points=30, minutes=0)
    codes = sorted(e["code"] for e in bad["data"]["liveTaskPublish"]["errors"])
    assert codes == ["LD105", "LD105", "LD106"]  # the id, target 0 and watched_minutes 0, each named
    nothing = gql(client, PUBLISH, boss, live="l1", id="no-reward", minutes=2)
    assert nothing["data"]["liveTaskPublish"]["errors"][0]["code"] == "LD109"
    assert gql(client, PUBLISH, boss, live="nope", id="x", target=1, points=1, minutes=1)[
        "data"]["liveTaskPublish"]["errors"][0]["code"] == "NOT_FOUND"
    assert gql(client, PUBLISH, amy, live="l1", id="mine", target=1, points=1, minutes=1)[
        "data"]["liveTaskPublish"]["errors"][0]["code"] == "PERMISSION_DENIED"
    assert not PublishedTask.objects.exists()
    assert gql(client, PUBLISH, boss, live="l1", id="ok", target=1, points=1, minutes=1)[
        "data"]["liveTaskPublish"]["errors"] == []
    assert gql(client, PUBLISH, boss, live="l1", id="ok", target=2, points=1, minutes=1)[
        "data"]["liveTaskPublish"]["errors"][0]["code"] == "UNIQUE"


def test_another_process_picks_up_a_published_task_and_a_withdrawal() -> None:
    client, boss, amy = Client(), staff(), user("amy")
    join(client, amy)
    amy_id = "user:%d" % amy.pk
    _live(client, boss, "l1")
    worker = DirectoryRules(default_rules_dir(), "python", interval=0, overlay=OVERLAY)  # another process
    try:
        before = worker.current().version
        gql(client, PUBLISH, boss, live="l1", id="l1-two", target=2, points=20, minutes=2)
        assert worker.current().ruleset.task("l1-two") is not None and worker.current().version != before
        gql(client, START, boss, id="l1")
        _watchers(amy_id, "l1", 1, minutes=6)
        assert gql(client, WITHDRAW, boss, id="l1-two")["data"]["liveTaskWithdraw"]["errors"] == []
        assert worker.current().ruleset.task("l1-two") is None and worker.current().version == before
        assert processing.rules_source().current().ruleset.task("l1-two") is None
        _watchers(amy_id, "l1", 3, minutes=6, first=1)  # after the withdrawal: nobody counts any more
        assert not PointsGrant.objects.filter(rule_ids=["l1-two"]).exists()
        assert PointsGrant.objects.filter(beneficiary=amy_id, rule_ids=["invite-watcher"]).count() == 4
        assert gql(client, WITHDRAW, boss, id="invite-watcher")["data"]["liveTaskWithdraw"]["errors"] == [
            {"code": "NOT_FOUND"}]
    finally:
        worker.close()
