"""`livedist simulate` writes its outcome section by section and reads its events file line by line: the bytes
are the whole document's (`cli._document`, the outcome built in memory as it was before it streamed), for each
format, engine and option; --output is complete or untouched."""
from __future__ import annotations

import io
import json
import os
import sys
import threading
from pathlib import Path

import pytest

from saleor_livedist import cli
from saleor_livedist.cli import default_fixture, main
from saleor_livedist.core.store import MemoryStore

ROOT = Path(__file__).resolve().parents[2]


def simulate(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = main(["simulate", *argv], out=out, err=err)
    return code, out.getvalue(), err.getvalue()


def reference(events: Path, fmt: str, engine: str = "python", now: str | None = None,
              skip_invalid: bool = False) -> str:
    """The outcome built whole, from the same run."""
    run_engine, source = cli._run(events, None, engine, now, skip_invalid=skip_invalid, err=io.StringIO())
    try:
        return cli._document(run_engine, source, fmt)
    finally:
        source.close()


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The benchmark's stream (1,000 distributors, a live, 300 orders with their clicks)."""
    sys.path.insert(0, str(ROOT / "bench"))
    try:
        import bench_simulate
    finally:
        sys.path.remove(str(ROOT / "bench"))
    path = tmp_path_factory.mktemp("stream") / "generated.jsonl"
    bench_simulate.write_stream(path, 300)
    return path


def _junk(tmp_path: Path) -> Path:
    """The demo stream with a bad line, an unknown distributor's click (a notice) and a redelivered event."""
    good = default_fixture().read_text(encoding="utf-8").splitlines()
    first = next(line for line in good if line.startswith("{"))
    click = json.dumps({"id": "stray", "type": "link.clicked", "at": "2026-11-20T10:00:00Z", "distributor": "nobody",
                        "visitor": "v-stray", "target": {"live": "L1"}})
    path = tmp_path / "junk.jsonl"
    path.write_text("\n".join([*good[:3], "not json", click, *good[3:], first]) + "\n", encoding="utf-8")
    return path


@pytest.mark.parametrize("fmt", ["json", "text"])
def test_streamed_output_is_the_documents_bytes(fmt: str, generated: Path, tmp_path: Path) -> None:
    empty = tmp_path / "empty.jsonl"
    empty.write_text("# nothing\n", encoding="utf-8")
    runs = [
        (default_fixture(), ["--engine", "python"], {}),
        (default_fixture(), ["--engine", "durable"], {"engine": "durable"}),
        (default_fixture(), ["--engine", "python", "--now", "2027-06-01T00:00:00Z"],
         {"now": "2027-06-01T00:00:00Z"}),
        (generated, ["--engine", "python"], {}),
        (generated, ["--engine", "python", "--now", "2027-06-01T00:00:00Z"], {"now": "2027-06-01T00:00:00Z"}),
        (_junk(tmp_path), ["--engine", "python", "--skip-invalid"], {"skip_invalid": True}),
        (empty, ["--engine", "python"], {}),
    ]
    for events, argv, options in runs:
        code, out, err = simulate("--events", str(events), "--format", fmt, *argv)
        assert code == 0, err
        assert out == reference(events, fmt, **options), (events, argv)
    assert "Ignored events" in simulate("--events", str(_junk(tmp_path)), "--skip-invalid")[1]


def test_events_are_applied_as_they_are_read(tmp_path: Path) -> None:
    """A pipe delivers the first half of the demo stream and holds the rest back until the engine has priced an
    order from that half: a reader that takes the whole file before applying anything waits in vain."""
    lines = default_fixture().read_text(encoding="utf-8").splitlines(keepends=True)
    created = [n for n, line in enumerate(lines) if '"order.created"' in line]
    half = created[0] + 1
    pipe = tmp_path / "events.pipe"
    os.mkfifo(pipe)
    priced = threading.Event()
    early: list[bool] = []

    def feed() -> None:
        with open(pipe, "w", encoding="utf-8") as handle:
            handle.writelines(lines[:half])
            handle.flush()
            early.append(priced.wait(timeout=20))
            handle.writelines(lines[half:])

    writer = threading.Thread(target=feed)
    writer.start()
    engine, source = cli._run(pipe, None, "python", None, on_created=lambda *_: priced.set())
    writer.join()
    source.close()
    assert early == [True]
    assert engine.store.order_ids()


def test_a_bad_line_keeps_its_number_and_nothing_is_written(tmp_path: Path) -> None:
    lines = default_fixture().read_text(encoding="utf-8").splitlines()
    lines.insert(len(lines) - 2, '{"id": "late", "type": "order.paid", "at": "2026-11-20T10:00:00", "order": "o"}')
    events = tmp_path / "events.jsonl"
    events.write_text("\n".join(lines) + "\n", encoding="utf-8")
    target = tmp_path / "out.json"
    target.write_text("the previous run\n", encoding="utf-8")
    code, out, err = simulate("--events", str(events), "--format", "json", "--output", str(target))
    assert code == 1 and out == ""
    assert f"events.jsonl:{len(lines) - 2}: " in err and "no UTC offset" in err and "nothing was applied" in err
    assert target.read_text(encoding="utf-8") == "the previous run\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["events.jsonl", "out.json"]


def test_output_file_is_complete_or_as_it_was(tmp_path: Path) -> None:
    target = tmp_path / "out.txt"
    code, out, err = simulate("--events", str(default_fixture()), "--engine", "python", "--output", str(target))
    assert code == 0 and out == "", err
    assert target.read_text(encoding="utf-8") == reference(default_fixture(), "text")
    with pytest.raises(RuntimeError), cli._replacing(target) as handle:
        handle.write("half a document")
        raise RuntimeError("stopped midway")
    assert target.read_text(encoding="utf-8") == reference(default_fixture(), "text")
    assert [p.name for p in tmp_path.iterdir()] == ["out.txt"]
    code, _, err = simulate("--events", str(default_fixture()), "--output", str(tmp_path / "no" / "out.txt"))
    assert code == 1 and "cannot write" in err and "Traceback" not in err


def test_a_used_id_with_another_body_is_refused_with_the_first_line(tmp_path: Path) -> None:
    events = tmp_path / "events.jsonl"
    live = {"id": "e1", "type": "live.started", "at": "2026-11-20T10:00:00Z", "live": "L1"}
    events.write_text("\n".join([json.dumps(live), json.dumps(live | {"at": "2026-11-20T10:05:00Z"}),
                                 json.dumps(live | {"live": "L2"})]) + "\n", encoding="utf-8")
    code, _, err = simulate("--events", str(events))
    assert code == 1
    assert err.splitlines()[0] == (f"{events}:3: event id 'e1' was already used on line 1 by an event with a "
                                   "different body; give this one its own id")
    code, _, err = simulate("--events", str(events), "--skip-invalid")
    assert code == 0 and "the other 2 event(s) were applied" in err


def test_invitations_by_viewer_keep_their_arrival_order() -> None:
    store = MemoryStore()
    for live, distributor, viewer in [("L1", "d1", "v1"), ("L1", "d2", "v2"), ("L2", "d3", "v1"),
                                      ("L1", "d1", "v1"), ("L0", "d2", "v1")]:
        store.add_live_invitation(live, distributor, viewer)
    assert store.invitations("v1") == [("L1", "d1"), ("L2", "d3"), ("L0", "d2")]
    assert store.invitations("v2") == [("L1", "d2")]
    assert store.invitations("v3") == []
