"""`livedist demo` for real: the sandbox on PostgreSQL, the fixture stream through the hooks' database path,
and `--serve` answering GraphQL."""
from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from django.db import connection

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.django_db


def server_url() -> str:
    """The test's PostgreSQL server (the demo makes its own database on it)."""
    s = connection.settings_dict
    if s["HOST"].startswith("/"):
        return f"postgresql://{s['USER']}:{s['PASSWORD']}@/postgres?host={s['HOST']}"
    return f"postgresql://{s['USER']}:{s['PASSWORD']}@{s['HOST']}:{s['PORT'] or 5432}/postgres"


def demo_env() -> dict[str, str]:
    env = dict(os.environ, DATABASE_URL=server_url(), PYTHONPATH=str(ROOT))
    env.pop("DJANGO_SETTINGS_MODULE", None)
    return env


def test_demo_plays_the_stream_through_the_database() -> None:
    done = subprocess.run([sys.executable, "-m", "saleor_livedist", "demo"], env=demo_env(), capture_output=True,
                          text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    out = done.stdout
    assert "120 events in the inbox, 119 applied" in out
    # bob's 14% on o-201 (10 live + 2 first hour + 2 task) of 399.00, worked out by hand
    assert re.search(r"o-201\s+1\s+bob\s+commission\s+1\s+14%\s+55\.86 CNY\s+approved", out)
    # frank never clicked: bob's coupon code pays bob 12% (10 live + 2 task; after the first hour) of 349.00
    assert re.search(r"o-205\s+1\s+bob\s+commission\s+1\s+12%\s+41\.88 CNY\s+pending", out)
    # 平级奖: bob (the seller) and alice (his upline) are both leaders by then: alice's 1% of 349.00 on top
    assert re.search(r"o-205\s+1\s+alice\s+peer_bonus\s+2\s+1%\s+3\.49 CNY\s+pending\s+leader-peer", out)
    # points: 10 x 5 (invite-watcher) + 50 (ten-watchers) + 20 (the task staff published: 2 invitees bought)
    # grace bought through carol's clip of the replay: the replay rate, 5% of 399.00, and bob's 2% as upline
    assert re.search(r"o-302\s+1\s+carol\s+commission\s+1\s+5%\s+19\.95 CNY\s+pending\s+replay", out)
    assert re.search(r"o-302\s+carol\s+carol\s+-\s+replay\s+live-1", out)
    # 分红奖 for November: 1% of the GMV the customers kept (alice 120 + 108, bob 299 + 108 + 349, carol 359.10 +
    # 399, a guest's 399 through nobody: 2141.10) is 21.41, shared by the leaders' team sales (their own and their
    # direct invitees'): alice 984, bob 1514.10, carol 758.10 of 3256.20; rounded down 6.46 + 9.95 + 4.98 = 21.39,
    # the two cents left go to the largest remainders cut off (alice's .0097, bob's .0053)
    assert "pool leader-pool 2026-11: GMV 2141.10 CNY, pool 21.41 CNY shared by 3: bob 9.96, alice 6.47, carol 4.98" \
        in out
    assert re.search(r"pool:leader-pool:2026-11\s+bob\s+pool_bonus\s+0\s+1%\s+9\.96 CNY\s+approved\s+leader-pool", out)
    assert re.search(r"bob\s+CNY\s+49\.86\s+68\.72\s+41\.35\s+120\s+leader", out)  # 58.76 + 9.96
    # the default redemption: 10 points = 1.00 CNY from 50; bob's 120 points (invite tasks) buy up to 12.00
    assert "  bob: 120 points, buys up to 12.00 CNY for 120 points\n  carol: 20 points, needs 30 more points" in out
    assert "  bob redeems 50 points: a 5.00 CNY gift card (issued), 70 points left" in out
    # the default invite_coupon: a new visitor through bob's link gets 10.00 off a first order of 99.00 or more
    assert re.search(r"a new visitor clicks bob's link to p-dress: a first-order coupon, 10\.00 CNY off a first "
                     r"order of 99\.00 or more, until 20\d\d-\d\d-\d\d \d\d:\d\d \+00:00 \(issued;", out)
    # REMINDER_OFFSETS' default, 30 and 5 minutes: v09 and v10 reminded at each, and not twice
    assert re.search(r": 2 reminded \(Winter coats, live starts in 30 minutes\)\n.*: 2 reminded \(Winter coats, live "
                     r"starts in 5 minutes\)\n.*: 0 reminded \(each offset reaches a person once\)", out)
    # invitees who bought from the live: bob's three live-link buyers and frank (his coupon code); carol's erin
    # (her replay link) and grace (her clip)
    assert "task live-1-two-buyers (published by staff): bob 4 qualified, done, 20 points" in out
    assert "task live-1-two-buyers (published by staff): carol 2 qualified, done, 20 points" in out
    assert "BOB-AUTUMN (bob): orders o-205 (commission 41.88)" in out
    assert "clip clip-blue-dress: The blue dress, close up (600-690 s)" in out
    # two invitees of carol's paid (erin, grace): 链动2+1 makes her a leader, and the published task's 20 points
    assert re.search(r"carol\s+CNY\s+19\.95\s+22\.94\s+0\.00\s+20\s+leader", out)  # 17.96 + her 4.98 pool share
    # then `livedist settle` finds the database the demo left (it once crashed on another database)
    settled = subprocess.run([sys.executable, "-m", "saleor_livedist", "settle", "--now", "2030-01-01T00:00:00+00:00"],
                             env=demo_env(), capture_output=True, text=True, timeout=120)
    assert settled.returncode == 0, settled.stderr
    assert re.fullmatch(r"\d+ order\(s\) had commissions approved\n", settled.stdout)


def test_settle_on_a_database_without_the_tables_says_what_to_set_in_one_line() -> None:
    env = dict(demo_env(), DJANGO_SETTINGS_MODULE="saleor_livedist.sandbox.settings")  # the server's own database
    done = subprocess.run([sys.executable, "-m", "saleor_livedist", "settle"], env=env, capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 1 and "Traceback" not in done.stderr, done.stderr
    line, = done.stderr.splitlines()
    assert line.startswith("error: cannot settle in database 'postgres'") and "DJANGO_SETTINGS_MODULE" in line


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_demo_serve_answers_graphql_as_alice() -> None:
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "saleor_livedist", "demo", "--serve", "--address",
                             f"127.0.0.1:{port}"], env=demo_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)
    try:
        token = None
        deadline = time.monotonic() + 240
        while time.monotonic() < deadline and token is None:
            line = proc.stdout.readline()
            assert line or proc.poll() is None, proc.stderr.read()
            found = re.search(r"as alice: Authorization: Bearer (\S+)", line)
            token = found.group(1) if found else None
        assert token, "the demo did not print alice's token"
        body = json.dumps({"query": "{ me { rank balances { currency approved } points } }"}).encode()
        for _ in range(100):
            try:
                request = urllib.request.Request(f"http://127.0.0.1:{port}/graphql/", data=body, headers={
                    "Content-Type": "application/json", "Authorization": f"Bearer {token}"})
                answer = json.loads(urllib.request.urlopen(request, timeout=5).read())
                break
            except OSError:
                time.sleep(0.2)
        assert answer["data"]["me"] == {"rank": "leader", "balances": [{"currency": "CNY", "approved": "26.01"}],
                                        "points": 0}
    finally:
        proc.terminate()
        proc.wait(30)
