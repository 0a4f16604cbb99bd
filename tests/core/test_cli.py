"""The `livedist` command: demo, simulate, rules check, rules explain; errors as messages, never tracebacks."""
from __future__ import annotations

import io
import json
import subprocess
import sys
from pathlib import Path

import pytest

from saleor_livedist.cli import default_fixture, main

ROOT = Path(__file__).resolve().parents[2]


def cli(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = main(list(argv), out=out, err=err)
    return code, out.getvalue(), err.getvalue()


@pytest.fixture(scope="module")
def demo_json() -> dict:
    code, out, err = cli("simulate", "--events", str(default_fixture()), "--format", "json", "--engine", "python")
    assert code == 0, err
    return json.loads(out)


def test_simulate_json_has_every_section(demo_json: dict) -> None:
    assert set(demo_json) >= {"rules_version", "entries", "points", "balances", "ranks", "attribution"}
    entry = demo_json["entries"][0]
    assert set(entry) >= {"order", "line", "beneficiary", "kind", "level", "amount", "currency", "status", "rule_ids"}
    assert isinstance(entry["amount"], str)


def test_demo_amounts_worked_out_by_hand(demo_json: dict) -> None:
    by_key = {(e["order"], e["line"], e["level"], e["kind"]): e for e in demo_json["entries"]}
    # o-201: p-dress 399.00 at minute 30 of the live, featured, after bob's 10-watcher task: 10 + 2 + 2 = 14%
    assert by_key[("o-201", "1", 1, "commission")]["amount"] == "55.86"
    assert by_key[("o-201", "1", 2, "team")]["amount"] == "7.98"  # alice is a leader: 2%
    # 100.00 refunded before approval: 14% of it comes back
    assert by_key[("o-201", "1", 1, "adjustment")]["amount"] == "-14.00"
    # o-301 from carol's replay link: 5%, bob (a leader by then) earns team 2%
    assert by_key[("o-301", "1", 1, "commission")]["amount"] == "17.96"
    assert by_key[("o-301", "1", 1, "commission")]["rule_ids"] == ["replay"]
    # o-101 refunded after approval: a clawback of 5% of 108.00
    assert by_key[("o-101", "1", 1, "clawback")] | {"amount": "-5.40", "status": "approved"} == \
        by_key[("o-101", "1", 1, "clawback")]
    # o-302 from carol's clip of the replay: the replay rate too, with the clip's live
    assert by_key[("o-302", "1", 1, "commission")]["amount"] == "19.95"
    assert by_key[("o-302", "1", 1, "commission")]["rule_ids"] == ["replay"]
    # the events alone (the task staff published for the live is in the database, not in the rule files)
    assert demo_json["balances"]["bob"]["points"] == 10 * 5 + 50
    # carol's invitees erin and grace both paid: 链动2+1 makes her a leader
    assert demo_json["ranks"] == {"alice": "leader", "bob": "leader", "carol": "leader"}
    attribution = {a["order"]: a for a in demo_json["attribution"]}
    assert attribution["o-204"]["paid_to"] is None  # the guest never clicked a link
    assert attribution["o-301"]["context"] == "replay"
    assert (attribution["o-302"]["context"], attribution["o-302"]["live"]) == ("replay", "live-1")


def test_both_engines_print_the_same_json() -> None:
    if not __import__("saleor_livedist.rules.backends", fromlist=["x"]).durable_available():
        pytest.skip("durable-rules does not import on this Python (3.13)")
    docs = []
    for engine in ("durable", "python"):
        code, out, _ = cli("simulate", "--events", str(default_fixture()), "--format", "json", "--engine", engine)
        doc = json.loads(out)
        assert doc.pop("engine") == engine
        docs.append(doc)
    assert docs[0] == docs[1]


def test_demo_prints_a_readable_ledger() -> None:
    code, out, _ = cli("demo", "--memory", "--engine", "python")
    assert code == 0
    assert "Ledger" in out and "Balances" in out and "o-201" in out and "55.86 CNY" in out


def test_now_moves_the_approval_clock(tmp_path: Path) -> None:
    early = cli("simulate", "--events", str(default_fixture()), "--format", "json", "--engine", "python",
                "--now", "2026-11-21T13:00:00+08:00")
    statuses = {e["status"] for e in json.loads(early[1])["entries"] if e["order"] == "o-301"}
    assert statuses == {"pending"}


def test_rules_check_ok_and_errors(tmp_path: Path) -> None:
    code, out, _ = cli("rules", "check", str(ROOT / "rules"))
    assert code == 0 and out.startswith("ok:")
    bad = tmp_path / "bad.yaml"
    bad.write_text("schema: livedist/v1\ncommission:\n  rates:\n    - id: x\n      rat: 5\n")
    code, out, err = cli("rules", "check", str(bad))
    assert code == 1
    assert "bad.yaml:5:7" in err and "did you mean 'rate'" in err and "Traceback" not in err


def test_rules_explain_shows_matches_and_misses() -> None:
    code, out, err = cli("rules", "explain", "--events", str(default_fixture()), "--order", "o-202", "--engine",
                         "python")
    assert code == 0, err
    assert "paid to bob" in out
    assert "MATCH direct" in out and "MATCH first-live-hour" in out
    assert "no    live-featured" in out and "needs featured = True, is False" in out
    assert "=> direct + first-live-hour + task:ten-watchers: 9% x 108.00 = 9.72 CNY" in out


def test_bad_event_file_is_a_message_not_a_traceback(tmp_path: Path) -> None:
    events = tmp_path / "events.jsonl"
    events.write_text('{"id": "1", "type": "order.paid", "at": "2026-11-20T10:00:00", "order": "o"}\n')
    code, _, err = cli("simulate", "--events", str(events))
    assert code == 1 and "events.jsonl:1" in err and "no UTC offset" in err
    code, _, err = cli("simulate", "--events", str(tmp_path / "missing.jsonl"))
    assert code == 1 and "cannot read events file" in err


def _junk_file(tmp_path: Path) -> tuple[Path, list[str]]:
    """The demo stream with bad lines put in: their numbers, in the new file, are returned."""
    good = default_fixture().read_text(encoding="utf-8").splitlines()
    first = next(json.loads(line) for line in good if line.startswith("{"))
    conflict = json.dumps({**first, "type": "order.paid", "order": "o-x"})
    bad = ['{"id": "deep", "type": "live.started", "at": "2026-11-20T10:00:00Z", "live": ' + "[" * 40 + "]" * 40 + "}",
           '{"id": 1' + "0" * 5000 + "}", '{"id": "nul", "type": "live.started", "at": "2026-11-20T10:00:00Z", '
           '"live": "a\\u0000"}', '{"id": "y", "type": "live.started", "at": "0001-01-01T00:00:00Z", "live": "L"}',
           "not json at all", conflict]
    lines = good[:3] + bad[:5] + good[3:] + [bad[5]]
    path = tmp_path / "junk.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path, [str(n) for n in (4, 5, 6, 7, 8, len(lines))]


def test_simulate_reports_every_bad_line_and_applies_nothing(tmp_path: Path) -> None:
    path, numbers = _junk_file(tmp_path)
    code, out, err = cli("simulate", "--events", str(path), "--engine", "python")
    assert code == 1 and out == ""
    assert "Traceback" not in err
    reported = [line.split(":")[1] for line in err.splitlines() if line.startswith(f"{path}:")]
    assert reported == numbers
    assert "nested more than 16" in err and "4300 digits" in err and "NUL byte" in err
    assert "outside the years 1970-2999" in err and "different body" in err
    assert "6 line(s) refused; nothing was applied" in err


def test_simulate_skip_invalid_applies_the_other_lines_as_without_them(tmp_path: Path) -> None:
    path, _ = _junk_file(tmp_path)
    code, out, err = cli("simulate", "--events", str(path), "--engine", "python", "--format", "json",
                         "--skip-invalid")
    assert code == 0
    assert "6 line(s) refused; the other" in err
    _, clean, _ = cli("simulate", "--events", str(default_fixture()), "--engine", "python", "--format", "json")
    assert json.loads(out) == json.loads(clean)


def test_python_dash_m_runs_the_cli() -> None:
    done = subprocess.run([sys.executable, "-m", "saleor_livedist", "rules", "check"], capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "version" in done.stdout


def test_explain_shows_the_order_time_in_the_display_time_zone() -> None:
    import os

    env = {k: v for k, v in os.environ.items() if k != "DJANGO_SETTINGS_MODULE"}
    args = [sys.executable, "-m", "saleor_livedist", "rules", "explain", "--events", str(default_fixture()),
            "--order", "o-201", "--engine", "python"]
    utc = subprocess.run(args, env=env, capture_output=True, text=True, timeout=120, cwd=ROOT)
    shanghai = subprocess.run(args, env={**env, "LIVEDIST_DISPLAY_TIME_ZONE": "Asia/Shanghai"},
                              capture_output=True, text=True, timeout=120, cwd=ROOT)
    assert utc.returncode == shanghai.returncode == 0, utc.stderr + shanghai.stderr
    first_utc, first_shanghai = utc.stdout.splitlines()[0], shanghai.stdout.splitlines()[0]
    assert first_utc.endswith("+00:00, rules version " + first_utc.rsplit(" ", 1)[1]), first_utc
    assert " +08:00, rules version" in first_shanghai, first_shanghai
    assert "by click at 2026-11-20 10:00 +00:00" in utc.stdout  # the event said 18:00+08:00
    assert "by click at 2026-11-20 18:00 +08:00" in shanghai.stdout
    hour = int(first_utc.split(" at ")[1][11:13])
    assert int(first_shanghai.split(" at ")[1][11:13]) == (hour + 8) % 24
