"""Hot reload: a changed rules directory is picked up without a restart; an invalid change keeps the last
good version active and reports its problems."""
from __future__ import annotations

import logging
import os
import shutil
from pathlib import Path

import pytest

from saleor_livedist.exceptions import RuleFileError
from saleor_livedist.rules.provider import DirectoryRules

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def rules_dir(tmp_path: Path) -> Path:
    target = tmp_path / "rules"
    shutil.copytree(ROOT / "rules", target)
    return target


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new))
    stat = path.stat()  # make sure the change is visible even within one mtime tick
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000))


def rate(source: DirectoryRules, rule_id: str) -> str:
    return str(next(r.percent for r in source.current().ruleset.rate_rules() if r.id == rule_id))


def test_a_changed_file_is_picked_up_without_restart(rules_dir: Path, backend: str) -> None:
    source = DirectoryRules(rules_dir, backend, interval=0)
    first = source.current().version
    edit(rules_dir / "commission.yaml", "      rate: 5\n", "      rate: 6\n")
    assert rate(source, "direct") == "6"
    assert source.current().version != first
    source.close()


def test_an_invalid_change_keeps_the_last_good_version(rules_dir: Path, caplog: pytest.LogCaptureFixture) -> None:
    source = DirectoryRules(rules_dir, "python", interval=0)
    good = source.current().version
    with caplog.at_level(logging.ERROR):
        edit(rules_dir / "commission.yaml", "      rate: 10\n", "      rat: 10\n")
        assert source.current().version == good
    assert rate(source, "live-featured") == "10"
    assert [p.code for p in source.problems] and "did you mean 'rate'" in source.problems[0].hint
    assert "keeping version " + good in caplog.text
    edit(rules_dir / "commission.yaml", "      rat: 10\n", "      rate: 11\n")  # fixed: the new version wins
    assert rate(source, "live-featured") == "11" and source.problems == []


def test_formatting_changes_keep_the_version(rules_dir: Path) -> None:
    source = DirectoryRules(rules_dir, "python", interval=0)
    good = source.current().version
    edit(rules_dir / "policy.yaml", "settlement:\n", "# a comment\nsettlement:\n")
    assert source.reload_if_changed() is False and source.current().version == good


def test_checks_are_rate_limited(rules_dir: Path) -> None:
    source = DirectoryRules(rules_dir, "python", interval=3600)
    edit(rules_dir / "commission.yaml", "      rate: 5\n", "      rate: 6\n")
    assert rate(source, "direct") == "5"  # not re-read within the interval
    assert source.reload_if_changed() and rate(source, "direct") == "6"


def test_an_invalid_directory_at_start_is_an_error(tmp_path: Path) -> None:
    (tmp_path / "r.yaml").write_text("schema: livedist/v9\n")
    with pytest.raises(RuleFileError):
        DirectoryRules(tmp_path, "python")


def test_a_thread_still_using_the_replaced_version_can_finish(rules_dir: Path, backend: str) -> None:
    """The version just replaced stays usable (a worker thread may be mid-evaluation with it); the one
    before it is freed."""
    source = DirectoryRules(rules_dir, backend, interval=0)
    first = source.current()
    edit(rules_dir / "commission.yaml", "      rate: 5\n", "      rate: 6\n")
    assert source.current() is not first
    fact = {"k": 0, "lv1": True, "rank1": "distributor", "tasks1": [], "product": "p", "channel": "c",
            "currency": "CNY", "context": "none", "featured": False, "collections": [], "at_ms": 0}
    assert first.matcher.match([fact]) == [{0}]  # still answers after the reload
    edit(rules_dir / "commission.yaml", "      rate: 6\n", "      rate: 7\n")
    assert rate(source, "direct") == "7"
    source.close()
