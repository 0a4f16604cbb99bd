"""The `livedist` command: demo, simulate, settle, rules check, rules explain, messages."""
from __future__ import annotations

import argparse
import hashlib
import json
import os
import sys
import tempfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any, TextIO

from .exceptions import EventError, LiveDistError, RuleFileError
from .rules.backends import BACKENDS

PACKAGE_DIR = Path(__file__).resolve().parent


def default_fixture() -> Path:
    return PACKAGE_DIR / "fixtures" / "live-demo.jsonl"


def _run(events_path: Path, rules: str | None, engine_name: str | None, now: str | None,
         on_created: Any = None, skip_invalid: bool = False, err: TextIO | None = None) -> tuple[Any, Any]:
    """The engine after every event of the file, settled at --now (default: the latest event's time)."""
    from .core.engine import Engine
    from .core.events import parse_datetime
    from .core.store import MemoryStore
    from .rules.loader import load_rules
    from .rules.provider import StaticRules

    source = StaticRules(load_rules(rules), engine_name)
    engine = Engine(MemoryStore(), source)
    engine.on_order_priced = on_created
    last_at = _apply_event_file(engine, events_path, skip_invalid, err or sys.stderr)
    clock = parse_datetime(now, "--now") if now else last_at
    if clock is not None:
        engine.settle(clock)
    return engine, source


def _apply_event_file(engine: Any, path: Path, skip_invalid: bool, err: TextIO) -> datetime | None:
    """Apply a JSON Lines file's events as it is read, line by line, and return the latest event time. A bad
    line (or a second event with a used id and a different body) is reported as `FILE:LINE: message`; unless
    skip_invalid, one bad line means nothing is applied: the engine lives in memory only, so applying stops at
    the first bad line, the rest is still checked for the report, and the engine is dropped. For the used-id
    check, each id keeps its line number and a digest of its body, not the event."""
    from .core.events import read_lines

    first: dict[str, tuple[int, bytes]] = {}
    refused: list[str] = []
    applied = 0
    last_at: datetime | None = None
    try:
        with open(path, encoding="utf-8", errors="surrogateescape") as handle:
            for number, item in read_lines(handle):
                if isinstance(item, EventError):
                    refused.append(f"{path}:{number}: {item}")
                    continue
                digest = _body_digest(item)
                seen = first.setdefault(item.id, (number, digest))
                if seen[1] != digest:
                    refused.append(f"{path}:{number}: event id {item.id!r} was already used on line {seen[0]} by "
                                   "an event with a different body; give this one its own id")
                    continue
                applied += 1
                if refused and not skip_invalid:
                    continue
                engine.process(item)
                last_at = item.at if last_at is None or item.at > last_at else last_at
    except OSError as exc:
        raise LiveDistError(f"cannot read events file {path}: {exc.strerror}") from None
    if refused and not skip_invalid:
        raise EventFileError("\n".join(refused) + f"\n{len(refused)} line(s) refused; nothing was applied "
                             "(--skip-invalid applies the other lines)")
    for line in refused:
        err.write(line + "\n")
    if refused:
        err.write(f"{len(refused)} line(s) refused; the other {applied} event(s) were applied\n")
    return last_at


def _body_digest(event: Any) -> bytes:
    """What same_event compares (the type and the body without its time), as 16 bytes: two events with one id
    and different bodies differ here, and the first event need not be kept."""
    body = json.dumps([event.type, event.to_json() | {"at": None}], sort_keys=True, ensure_ascii=False,
                      default=str)
    return hashlib.blake2b(body.encode("utf-8", "surrogatepass"), digest_size=16).digest()


class EventFileError(EventError):
    """Bad lines of an events file, each as FILE:LINE: message."""


def cmd_simulate(args: argparse.Namespace, out: TextIO) -> int:
    """Run the file through the engine, then write the outcome section by section (write_json / write_text),
    never as one document in memory. Every input error is raised before the first byte is written; with
    --output the bytes go to a temporary file beside it, renamed over it only when complete."""
    engine, source = _run(Path(args.events), args.rules, args.engine, args.now,
                          skip_invalid=getattr(args, "skip_invalid", False), err=getattr(args, "err", None))
    try:
        if getattr(args, "output", None):
            with _replacing(Path(args.output)) as handle:
                _write_outcome(handle, engine, source, args.format)
        else:
            _write_outcome(out, engine, source, args.format)
    finally:
        source.close()
    return 0


def _write_outcome(out: TextIO, engine: Any, source: Any, fmt: str) -> None:
    from .core.report import write_json, write_text

    active = source.current()
    if fmt == "json":
        write_json(out, engine.store, active.version, active.matcher.name, engine.notices)
        return
    out.write(f"engine {active.matcher.name}, ")
    write_text(out, engine.store, active.version)
    out.write("\n")
    if engine.notices:
        out.write("\nIgnored events\n" + "\n".join("  " + n for n in engine.notices) + "\n")


def _document(engine: Any, source: Any, fmt: str) -> str:
    """The outcome built whole in memory, as `livedist simulate` wrote it before it streamed: the reference
    the tests hold the streamed bytes to."""
    from .core.report import render_text, summary

    doc = summary(engine.store, source.current().version)
    doc["engine"] = source.current().matcher.name
    doc["notices"] = engine.notices
    if fmt == "json":
        return json.dumps(doc, indent=2, ensure_ascii=False) + "\n"
    text = f"engine {doc['engine']}, " + render_text(doc) + "\n"
    if engine.notices:
        text += "\nIgnored events\n" + "\n".join("  " + n for n in engine.notices) + "\n"
    return text


@contextmanager
def _replacing(path: Path) -> Iterator[TextIO]:
    """A temporary file in path's directory, renamed to path once written whole; removed on any error, so path
    is either as it was or complete."""
    try:
        handle = tempfile.NamedTemporaryFile("w", encoding="utf-8", dir=path.parent or Path("."),
                                             prefix=f".{path.name}.", suffix=".tmp", delete=False)
    except OSError as exc:
        raise LiveDistError(f"cannot write {path}: {exc.strerror}") from None
    try:
        with handle:
            yield handle
        os.replace(handle.name, path)
    except BaseException as exc:
        os.unlink(handle.name)
        if isinstance(exc, OSError):
            raise LiveDistError(f"cannot write {path}: {exc.strerror}; it was left as it was") from None
        raise


def cmd_demo(args: argparse.Namespace, out: TextIO) -> int:
    if args.memory:
        out.write(f"livedist demo: the sample live session {default_fixture().name} through the default rules "
                  "(in memory: the events only; the live room in live-room.json, with the task staff published "
                  "for the live, needs the database)\n\n")
        args.events, args.now = str(default_fixture()), None
        return cmd_simulate(args, out)
    if args.engine:
        os.environ["LIVEDIST_ENGINE"] = args.engine
    from .sandbox.demo import run

    return run(out, serve=args.serve, address=args.address)


def _plugin_database(what: str) -> None:
    """Django set up on the project in DJANGO_SETTINGS_MODULE (without it, the sandbox database `livedist demo`
    left), with the plugin's tables there; else a LiveDistError saying what to set, in one line."""
    import django

    if not os.environ.get("DJANGO_SETTINGS_MODULE"):
        from .sandbox.demo import use_demo_database

        use_demo_database()
    django.setup()
    from django.apps import apps
    from django.db import DatabaseError, connection

    try:
        missing = {m._meta.db_table for m in apps.get_app_config("saleor_livedist").get_models()} - set(
            connection.introspection.table_names())
        if missing:
            raise DatabaseError(f"the plugin's tables are missing, e.g. {sorted(missing)[0]}")
    except DatabaseError as exc:  # no tables, no server: say what to set, not a traceback
        first_line = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise LiveDistError(f"cannot {what} in database {connection.settings_dict['NAME']!r} ({first_line}): run "
                            "`livedist demo` first, or set DJANGO_SETTINGS_MODULE (and DATABASE_URL) to the "
                            "project that has the plugin's tables (migrated)") from None


def cmd_settle(args: argparse.Namespace, out: TextIO) -> int:
    """Approve matured commissions in the database of the Django project in DJANGO_SETTINGS_MODULE; without it,
    in the sandbox database `livedist demo` left."""
    from .core.events import parse_datetime

    now = parse_datetime(args.now, "--now") if args.now else None
    _plugin_database("settle")
    from .inbox.processing import settle

    changed = settle(now)
    out.write(f"{changed} order(s) had commissions approved\n")
    return 0


def cmd_pools(args: argparse.Namespace, out: TextIO) -> int:
    """Pay pool bonuses by hand (as manage.py livedist_pay_pools), in the database `settle` uses."""
    from .core.events import parse_datetime

    now = parse_datetime(args.now, "--now") if args.now else None
    _plugin_database("pay pools")
    from .distribution.pools import describe, pay_named
    from .inbox.processing import rules_source

    active = rules_source().current()
    results = pay_named(active.ruleset, active.version, args.pool, args.period, now)
    if not results:
        out.write("the rules define no pools: nothing to pay\n")
    for result in results:
        out.write(describe(result) + "\n")
    return 0


def cmd_rules_check(args: argparse.Namespace, out: TextIO) -> int:
    from .rules.loader import load_rules

    ruleset = load_rules(args.paths or None)
    out.write(f"ok: {len(ruleset.files)} file(s), {len(ruleset.rate_rules())} commission rules, "
              f"{len(ruleset.tasks)} tasks, {len(ruleset.promotions)} promotions; version {ruleset.version}\n")
    return 0


def cmd_rules_explain(args: argparse.Namespace, out: TextIO) -> int:
    from .core.pricing import explain_line

    captured: dict[str, Any] = {}

    def capture(ctx: Any, chain: Any, active: Any, snapshot: Any) -> None:
        if ctx.order == args.order:
            captured.update(ctx=ctx, chain=chain, rows=explain_line(ctx, chain, active.compiled, active.matcher),
                            snapshot=snapshot, version=active.version)

    engine, source = _run(Path(args.events), args.rules, args.engine, args.now, on_created=capture)
    if not captured:
        raise LiveDistError(f"order {args.order!r} is not created in {args.events}")
    ctx, snapshot = captured["ctx"], captured["snapshot"]
    a = snapshot.attribution
    from .display import show, show_in_text

    out.write(f"order {ctx.order} at {show(ctx.at)}, rules version {captured['version']}\n")
    out.write(f"  buyer {ctx.customer}; paid to {a.paid_to or 'nobody'} ({show_in_text(a.reason)})\n")
    out.write(f"  last click {a.last_click or '-'}; assists {', '.join(a.assists) or '-'}; "
              f"context {ctx.context}{' ' + ctx.live if ctx.live else ''}"
              f"{f', {ctx.live_seconds // 60} min after the live started' if ctx.live_seconds is not None else ''}\n")
    chain = ", ".join(f"L{b.level} {b.distributor} (rank {b.rank})" for b in captured["chain"]) or "none"
    out.write(f"  chain {chain}\n")
    shares = {(p.line.line, s.level): s for p in snapshot.lines for s in p.shares}
    n = 0
    for priced in snapshot.lines:
        line = priced.line
        out.write(f"\nline {line.line}: product {line.product}, net amount {line.amount} {ctx.currency}\n")
        for who in captured["chain"]:
            row = captured["rows"][n]
            n += 1
            out.write(f"  level {who.level} -> {who.distributor}\n")
            for r in row["rules"]:
                mark = "MATCH" if r["matched"] else "no   "
                out.write(f"    {mark} {r['rule']:<22} {r['kind']:<5} {r['percent']:>6}%  {r['source']}"
                          f"{'  -- ' + r['why'] if r['why'] else ''}\n")
            share = shares.get((line.line, who.level))
            if share is None:
                out.write("    => nothing paid at this level\n")
            else:
                from .core.money import percent_of

                amount = percent_of(line.amount, share.percent, ctx.currency)
                out.write(f"    => {' + '.join(share.rule_ids)}: {share.percent}% x {line.amount} = {amount} "
                          f"{ctx.currency} (rounded half up to the minor unit)\n")
    entries = [e for e in engine.store.entries(args.order)]
    out.write("\nentries now\n")
    for e in entries:
        out.write(f"  {e.id}  {e.beneficiary}  {e.kind}  {e.amount} {e.currency}  {e.status}  {','.join(e.rule_ids)}\n")
    source.close()
    return 0


def cmd_messages(args: argparse.Namespace, out: TextIO) -> int:
    from .translations import refresh

    return refresh(out)


def cmd_app_serve(args: argparse.Namespace, out: TextIO) -> int:
    """App mode: the package as a standalone Saleor App (saleor_livedist/app_server/)."""
    from .app_server.serve import run

    return run(out, address=args.address, public_url=args.public_url)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="livedist", description="Live + distribution selling for Saleor.")
    sub = parser.add_subparsers(dest="command", required=True)

    def engine_options(p: argparse.ArgumentParser) -> None:
        p.add_argument("--rules", help="rules directory or file (default: the bundled default rules)")
        p.add_argument("--engine", choices=BACKENDS, help="rule backend (default: durable where it imports)")
        p.add_argument("--now", help="clock for approvals, ISO 8601 with offset (default: the last event's at)")

    demo = sub.add_parser("demo", help="play the sample live session through the sandbox on PostgreSQL")
    engine_options(demo)
    demo.add_argument("--format", choices=("text", "json"), default="text")
    demo.add_argument("--memory", action="store_true", help="in memory, without the database")
    demo.add_argument("--serve", action="store_true", help="keep the sandbox serving the GraphQL API afterwards")
    demo.add_argument("--address", default="127.0.0.1:8000", help="where --serve listens (default %(default)s)")
    demo.set_defaults(func=cmd_demo)

    settle = sub.add_parser("settle", help="approve matured commissions (same as manage.py livedist_settle)")
    settle.add_argument("--now", help="the clock, ISO 8601 with offset (default: now)")
    settle.set_defaults(func=cmd_settle)

    pools = sub.add_parser("pools", help="pay pool bonuses for a period (same as manage.py livedist_pay_pools)")
    pools.add_argument("--pool", help="one pool's id (default: every pool in the rules)")
    pools.add_argument("--period", help="the period, e.g. 2026-11 or 2026-W48 (default: each pool's latest due one)")
    pools.add_argument("--now", help="the clock, ISO 8601 with offset (default: now)")
    pools.set_defaults(func=cmd_pools)

    sim = sub.add_parser("simulate", help="replay an event file (JSON Lines) through the engine")
    sim.add_argument("--events", required=True, help="JSON Lines file of events")
    engine_options(sim)
    sim.add_argument("--format", choices=("text", "json"), default="text")
    sim.add_argument("--skip-invalid", action="store_true",
                     help="apply the valid lines even when some are refused (each refused line is still reported)")
    sim.add_argument("--output", help="write to this file (complete or not at all) instead of standard output")
    sim.set_defaults(func=cmd_simulate)

    rules = sub.add_parser("rules", help="check or explain rule files").add_subparsers(dest="rules_command",
                                                                                         required=True)
    check = rules.add_parser("check", help="validate rule files; exit 1 with every problem on stderr")
    check.add_argument("paths", nargs="*", help="rule files or directories (default: the bundled default rules)")
    check.set_defaults(func=cmd_rules_check)
    explain = rules.add_parser("explain", help="show which rules matched one order, which did not and why")
    explain.add_argument("--events", required=True)
    explain.add_argument("--order", required=True)
    engine_options(explain)
    explain.set_defaults(func=cmd_rules_explain)

    app = sub.add_parser("app", help="run the package as a standalone Saleor App").add_subparsers(
        dest="app_command", required=True)
    serve = app.add_parser("serve", help="serve the App (manifest, install, webhooks) on its own PostgreSQL "
                                         "(DATABASE_URL, else an embedded server)")
    serve.add_argument("--address", default="127.0.0.1:8100", help="where it listens (default %(default)s)")
    serve.add_argument("--public-url", help="the URL Saleor reaches it at, e.g. https://livedist.example.com/ "
                                            "(default: http://<address>/)")
    serve.set_defaults(func=cmd_app_serve)

    messages = sub.add_parser("messages", help="refresh the zh-Hans message catalogue from the source and compile "
                                               "it (developers; needs GNU gettext)")
    messages.set_defaults(func=cmd_messages)
    return parser


def main(argv: Sequence[str] | None = None, out: TextIO | None = None, err: TextIO | None = None) -> int:
    out, err = out or sys.stdout, err or sys.stderr
    args = build_parser().parse_args(argv)
    args.err = err
    try:
        return int(args.func(args, out))
    except RuleFileError as exc:
        err.write(f"{exc}\n{len(exc.problems)} problem(s) found\n")
        return 1
    except EventFileError as exc:
        err.write(f"{exc}\n")
        return 1
    except EventError as exc:
        err.write(f"invalid event: {exc}\n")
        return 1
    except LiveDistError as exc:
        err.write(f"error: {exc}\n")
        return 1


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
