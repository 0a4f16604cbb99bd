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

    from saleor_livedist import viewer_batch
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
