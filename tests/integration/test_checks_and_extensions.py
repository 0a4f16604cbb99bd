"""System checks with stable ids, the Celery beat entries, and extensions loaded from an entry point."""
from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import pytest
from celery import current_app

from saleor_livedist.checks import check_rules
from saleor_livedist.rules import registry
from saleor_livedist.rules.loader import load_rules_from_texts


def ids(errors: list[Any]) -> list[str]:
    return [e.id for e in errors]


def test_checks_pass_with_the_default_rules() -> None:
    assert check_rules() == []


def test_missing_rules_directory(settings: Any, tmp_path: Path) -> None:
    settings.LIVEDIST = {"RULES_DIR": str(tmp_path / "nope")}
    errors = check_rules()
    assert ids(errors) == ["saleor_livedist.E001"] and "RULES_DIR" in errors[0].hint


def test_invalid_rule_files(settings: Any, tmp_path: Path) -> None:
    (tmp_path / "bad.yaml").write_text("schema: livedist/v1\ncommission:\n  rates:\n    - id: x\n      rate: 500\n")
    settings.LIVEDIST = {"RULES_DIR": str(tmp_path)}
    errors = check_rules()
    assert ids(errors) == ["saleor_livedist.E002"]
    assert "bad.yaml:5:13" in errors[0].msg and "livedist rules check" in errors[0].hint


def test_unknown_setting_is_named(settings: Any) -> None:
    settings.LIVEDIST = {"ENGIN": "python"}
    errors = check_rules()
    assert ids(errors) == ["saleor_livedist.E000"] and "ENGIN" in errors[0].msg


def test_a_reminder_notifier_that_cannot_be_imported_is_named(settings: Any) -> None:
    settings.LIVEDIST = {"REMINDER_NOTIFIERS": ["saleor_livedist.live_room.reminders.by_email", "shop.sms.send_remider"]}
    errors = check_rules()
    assert ids(errors) == ["saleor_livedist.E004"] and "shop.sms.send_remider" in errors[0].msg


def test_the_notifiers_former_paths_still_work(settings: Any) -> None:
    """Settings written before the live room had a package name the built-in notifiers at their former path."""
    from saleor_livedist.live_room.reminders import by_email, by_webhook, notifiers

    settings.LIVEDIST = {"REMINDER_NOTIFIERS": ["saleor_livedist.reminders.by_email",
                                                "saleor_livedist.reminders.by_webhook"]}
    assert check_rules() == []
    assert notifiers() == [("by_email", by_email), ("by_webhook", by_webhook)]


def test_periodic_tasks_are_in_the_beat_schedule() -> None:
    schedule = current_app.conf.beat_schedule
    assert schedule["livedist-sweep-inbox"]["task"] == "saleor_livedist.process_events"
    assert schedule["livedist-settle"]["task"] == "saleor_livedist.settle"
    assert schedule["livedist-refresh-reports"]["task"] == "saleor_livedist.refresh_reports"


def test_extensions_load_from_an_entry_point(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A package that declares `[project.entry-points."saleor_livedist.rules"]` is imported before rules load."""
    (tmp_path / "shop_rules.py").write_text(
        "from saleor_livedist.rules import registry\n"
        "@registry.condition('vip_channel')\n"
        "def vip_channel(facts, params):\n"
        "    return facts.order.channel == 'vip'\n")
    dist = tmp_path / "shop_rules-1.0.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: shop-rules\nVersion: 1.0\n")
    (dist / "entry_points.txt").write_text("[saleor_livedist.rules]\nshop = shop_rules\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setattr(registry, "_entry_points_loaded", False)
    saved = dict(registry._conditions)
    try:
        rules = load_rules_from_texts({"r.yaml": (
            "schema: livedist/v1\ncommission:\n  rates:\n    - id: vip\n      rate: 9\n"
            "      when:\n        custom:\n          vip_channel: {}\n")})
        assert rules.rates[0].when.custom == (("vip_channel", ()),)
        assert "vip_channel" in registry.condition_names()
    finally:
        registry._conditions.clear()
        registry._conditions.update(saved)
        sys.modules.pop("shop_rules", None)
