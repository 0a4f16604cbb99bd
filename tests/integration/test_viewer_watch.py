"""The watch time the viewer endpoint shows a viewer follows the engine's counting, silence rule included."""
from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from saleor_livedist.models import Watch

pytestmark = pytest.mark.django_db


def test_the_watch_time_a_viewer_is_shown_stops_after_a_silence_as_the_engines_does(
        settings: Any, tmp_path: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """A watch still open in the database (its tab never left, processing may lag behind): the figure shown
    stops `viewing.silent_after_seconds` after the viewer's last event, as the engine counts it."""
    import shutil

    from saleor_livedist.viewers import batch as viewer_batch
    from saleor_livedist.rules.loader import default_rules_dir

    now = timezone.now()
    Watch.objects.create(live="L1", viewer="visitor:s", open_count=1, seconds=30.0,
                         active_since=now - timedelta(seconds=600), last_seen=now - timedelta(seconds=540))
    monkeypatch.setattr(viewer_batch, "_silent", (0.0, 0.0))  # read the rules afresh
    assert viewer_batch.watched_seconds({("L1", "visitor:s")}, now) == {("L1", "visitor:s"): 30 + 60 + 60}
    rules = tmp_path / "rules"
    shutil.copytree(default_rules_dir(), rules)
    (rules / "viewing.yaml").write_text("schema: livedist/v1\nviewing:\n  silent_after_seconds: 900\n")
    settings.LIVEDIST = {**getattr(settings, "LIVEDIST", {}), "RULES_DIR": str(rules)}
    monkeypatch.setattr(viewer_batch, "_silent", (0.0, 0.0))
    assert viewer_batch.watched_seconds({("L1", "visitor:s")}, now) == {("L1", "visitor:s"): 30 + 600}


@pytest.mark.django_db(transaction=True)
def test_viewers_are_let_in_from_the_second_the_live_starts_before_a_worker_applied_it(
        monkeypatch: pytest.MonkeyPatch) -> None:
    import json

    from django.test import Client

    from saleor_livedist.live_room import lifecycle, lives
    from saleor_livedist.inbox import processing
    from saleor_livedist.models import InboxEvent, Live

    lives.schedule_live("lv", "Starting now", timezone.now(), [])
    processing.process_pending()
    monkeypatch.setattr(processing, "schedule", lambda *a, **k: None)  # the workers are busy: nothing applied yet
    lifecycle.start_live("lv")
    assert Live.objects.get(id="lv").started_at is None
    joined = Client().post("/viewer/", json.dumps({"live": "lv", "action": "join"}), content_type="application/json")
    assert joined.status_code == 200 and joined.json()["recorded"] is True
    monkeypatch.undo()
    processing.process_pending()  # the worker catches up: live.started first, then the join, on air
    viewer = InboxEvent.objects.get(type="live.joined").payload["viewer"]
    assert Watch.objects.get(live="lv", viewer=viewer).open_count == 1
