"""The `livedist` command: demo, simulate, settle, rules check, rules explain, messages."""
from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Sequence
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
    from .core.engine import Engine
    from .core.events import parse_datetime
    from .core.store import MemoryStore
    from .rules.loader import load_rules
    from .rules.provider import StaticRules

    events = _read_event_file(events_path, skip_invalid, err or sys.stderr)
    source = StaticRules(load_rules(rules), engine_name)
    engine = Engine(MemoryStore(), source)
    engine.on_order_priced = on_created
    last_at: datetime | None = None
    for event in events:
        engine.process(event)
        last_at = event.at if last_at is None or event.at > last_at else last_at
    clock = parse_datetime(now, "--now") if now else last_at
    if clock is not None:
        engine.settle(clock)
    return engine, source


def _read_event_file(path: Path, skip_invalid: bool, err: TextIO) -> list[Any]:
    """Every event of a JSON Lines file, read whole before any is applied: a bad line (or a second event with a
    used id and a different body) is reported as `FILE:LINE: message`; unless skip_invalid, one bad line
    means nothing is applied."""
    from .core.events import Event, read_lines, same_event

    events: list[Event] = []
    first: dict[str, tuple[int, Event]] = {}
    refused: list[str] = []
    try:
        with open(path, encoding="utf-8", errors="surrogateescape") as handle:
            for number, item in read_lines(handle):
                if isinstance(item, EventError):
                    refused.append(f"{path}:{number}: {item}")
                    continue
                seen = first.get(item.id)
                if seen is None:
                    first[item.id] = (number, item)
                elif not same_event(seen[1], item):
                    refused.append(f"{path}:{number}: event id {item.id!r} was already used on line {seen[0]} by "
                                   "an event with a different body; give this one its own id")
                    continue
                events.append(item)
    except OSError as exc:
        raise LiveDistError(f"cannot read events file {path}: {exc.strerror}") from None
    if refused and not skip_invalid:
        raise EventFileError("\n".join(refused) + f"\n{len(refused)} line(s) refused; nothing was applied "
                             "(--skip-invalid applies the other lines)")
    for line in refused:
        err.write(line + "\n")
    if refused:
        err.write(f"{len(refused)} line(s) refused; the other {len(events)} event(s) were applied\n")
    return events


class EventFileError(EventError):
    """Bad lines of an events file, each as FILE:LINE: message."""


def cmd_simulate(args: argparse.Namespace, out: TextIO) -> int:
    from .core.report import render_text, summary

    engine, source = _run(Path(args.events), args.rules, args.engine, args.now,
                          skip_invalid=getattr(args, "skip_invalid", False), err=getattr(args, "err", None))
    doc = summary(engine.store, source.current().version)
    doc["engine"] = source.current().matcher.name
    doc["notices"] = engine.notices
    if args.format == "json":
        json.dump(doc, out, indent=2, ensure_ascii=False)
        out.write("\n")
    else:
        out.write(f"engine {doc['engine']}, ")
        out.write(render_text(doc) + "\n")
        if engine.notices:
            out.write("\nIgnored events\n" + "\n".join("  " + n for n in engine.notices) + "\n")
    source.close()
    return 0


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
