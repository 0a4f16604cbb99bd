"""Every row of the default policy table, shown by feeding events and checking amounts to the cent.

Each test runs on both backends (the `backend` fixture)."""
from __future__ import annotations

from decimal import Decimal

from tests.builders import T0, Stream, at, paid, points, run

from datetime import timedelta


def network() -> Stream:
    """alice <- bob (bob's upline is alice); live L1 on air from minute 0 to 120 featuring p-feat."""
    s = Stream()
    s.distributor("alice")
    s.distributor("bob", upline="alice")
    return s


def test_direct_commission_is_5_percent_of_the_net_line_amount(backend: str) -> None:
    s = network()
    s.click("bob", "cust", minute=-60, product="p-plain")
    s.order("o1", "cust", minute=-50, lines=[("p-plain", "123.45")])
    engine = run(s, backend)
    assert paid(engine, "bob") == Decimal("6.17")  # 6.1725 rounded half up
    assert paid(engine, "alice") == 0  # alice is not a leader: no team commission


def test_live_rate_is_10_percent_on_featured_products_while_on_air(backend: str) -> None:
    s = network()
    s.live("L1", products=("p-feat",), start=0, end=120)
    s.click("bob", "cust", minute=-30, live="L1")
    s.order("o1", "cust", minute=90, lines=[("p-feat", "200.00"), ("p-plain", "200.00")])  # after the first hour
    s.order("o2", "cust", minute=130, lines=[("p-feat", "200.00")])  # live has ended
    engine = run(s, backend)
    by_line = {(e.order, e.line): e.amount for e in engine.store.entries()}
    assert by_line[("o1", "1")] == Decimal("20.00")  # 10% featured, on air
    assert by_line[("o1", "2")] == Decimal("10.00")  # 5% not featured
    assert by_line[("o2", "1")] == Decimal("10.00")  # 5% once the live is over


def test_first_hour_bonus_adds_2_percent_within_60_minutes_of_the_start(backend: str) -> None:
    s = network()
    s.live("L1", products=("p-feat",), start=0, end=180)
    s.click("bob", "cust", minute=-30, live="L1")
    s.order("o0", "cust", minute=0, lines=[("p-feat", "100.00")])
    s.order("o1", "cust", minute=59.9, lines=[("p-feat", "100.00"), ("p-plain", "100.00")])
    s.order("o2", "cust", minute=60, lines=[("p-feat", "100.00")])
    s.click("bob", "cust2", minute=-30, live="L1")
    engine = run(s, backend)
    amounts = {(e.order, e.line): e.amount for e in engine.store.entries()}
    assert amounts[("o0", "1")] == Decimal("12.00")  # minute 0 counts
    assert amounts[("o1", "1")] == Decimal("12.00")  # 10 + 2
    assert amounts[("o1", "2")] == Decimal("7.00")  # 5 + 2: the bonus is for any product
    assert amounts[("o2", "1")] == Decimal("10.00")  # minute 60 is outside [0, 60)


def test_first_hour_bonus_needs_a_distributor(backend: str) -> None:
    s = network()
    s.live("L1", products=("p-feat",), start=0, end=180)
    s.watch("L1", "walk-in", start=1, minutes=20)
    s.order("o1", "walk-in", minute=10, lines=[("p-feat", "100.00")])
    engine = run(s, backend)
    assert engine.store.entries() == []


def test_invite_reward_is_5_points_per_invitee_watching_5_minutes_once_per_live(backend: str) -> None:
    s = network()
    s.live("L1", start=0, end=100)
    s.live("L2", start=200, end=300)
    for viewer in ("v1", "v2", "v3"):
        s.click("bob", viewer, minute=-10, live="L1")
    s.watch("L1", "v1", start=1, minutes=5)  # exactly 5 minutes: qualifies
    s.watch("L1", "v2", start=1, minutes=4.9)  # not quite
    s.watch("L1", "v3", start=1, minutes=3)
    s.watch("L1", "v3", start=10, minutes=3)  # two visits add up to 6 minutes
    s.watch("L1", "v1", start=20, minutes=30)  # watching longer or again earns nothing more
    s.click("bob", "v1", minute=190, live="L2")
    s.watch("L2", "v1", start=201, minutes=6)  # another live: another 5 points
    engine = run(s, backend)
    assert points(engine, "bob") == 15
    grants = sorted((g.live, g.invitee) for g in engine.store.points())
    assert grants == [("L1", "v1"), ("L1", "v3"), ("L2", "v1")]


def test_overlapping_tabs_do_not_double_count_watch_time(backend: str) -> None:
    s = network()
    s.live("L1", start=0, end=100)
    s.click("bob", "v1", minute=-10, live="L1")
    s.add("live.joined", 1, live="L1", viewer="v1", signed_in=True)
    s.add("live.joined", 2, live="L1", viewer="v1", signed_in=True)  # a second tab
    s.add("live.left", 4, live="L1", viewer="v1")
    s.add("live.left", 5.5, live="L1", viewer="v1")  # 4.5 minutes in all, not 5.5
    engine = run(s, backend)
    assert points(engine, "bob") == 0


def test_invite_task_10_qualified_invitees_earn_50_points_and_2_percent_on_later_orders(backend: str) -> None:
    s = network()
    s.live("L1", products=("p-feat",), start=0, end=200)
    for n in range(10):
        s.click("bob", f"v{n}", minute=-10, live="L1")
        s.watch("L1", f"v{n}", start=n, minutes=5)  # v9 qualifies at minute 14
    s.order("early", "v0", minute=13, lines=[("p-feat", "100.00")])  # before completion: 10 + 2
    s.order("late", "v1", minute=15, lines=[("p-feat", "100.00")])  # after: 10 + 2 + 2
    s.order("later", "v2", minute=150, lines=[("p-feat", "100.00")])  # after the first hour: 10 + 2
    engine = run(s, backend)
    assert points(engine, "bob") == 10 * 5 + 50
    amounts = {e.order: (e.amount, e.rule_ids) for e in engine.store.entries() if e.level == 1}
    assert amounts["early"][0] == Decimal("12.00")
    assert amounts["late"] == (Decimal("14.00"), ("live-featured", "first-live-hour", "task:ten-watchers"))
    assert amounts["later"][0] == Decimal("12.00")


def test_invite_task_bonus_applies_only_in_that_live(backend: str) -> None:
    s = network()
    s.live("L1", products=("p-feat",), start=0, end=60)
    for n in range(10):
        s.click("bob", f"v{n}", minute=-10, live="L1")
        s.watch("L1", f"v{n}", start=1, minutes=6)
    s.live("L2", products=("p-feat",), start=300, end=500)
    s.click("bob", "v0", minute=290, live="L2")
    s.order("other-live", "v0", minute=400, lines=[("p-feat", "100.00")])
    engine = run(s, backend)
    (entry,) = [e for e in engine.store.entries() if e.level == 1]
    assert entry.amount == Decimal("10.00") and "task:ten-watchers" not in entry.rule_ids


def test_promotion_two_direct_invitees_with_a_paid_order_make_a_leader(backend: str) -> None:
    s = network()
    s.click("bob", "c1", minute=-100, product="p-plain")
    s.click("bob", "c2", minute=-100, product="p-plain")
    s.click("bob", "c3", minute=-100, product="p-plain")
    s.order("a", "c1", minute=-90)
    s.order("b", "c1", minute=-89)  # the same invitee twice counts once
    s.order("c", "c3", minute=-88, paid=False)  # created, never paid
    first = run(s, backend)
    assert first.store.get_distributor("bob").rank == "distributor"
    s.order("d", "c2", minute=-80)
    second = run(s, backend)
    assert second.store.get_distributor("bob").rank == "leader"


def test_team_commission_2_percent_is_paid_only_to_leader_uplines(backend: str) -> None:
    s = network()
    s.distributor("carol", upline="bob")
    s.click("carol", "c1", minute=-100, product="p-plain")
    s.order("before", "c1", minute=-90, lines=[("p-plain", "50.00")])  # bob not yet a leader
    for n in range(2):  # bob's own invitees pay: bob becomes leader
        s.click("bob", f"b{n}", minute=-80, product="p-plain")
        s.order(f"b{n}", f"b{n}", minute=-70)
    s.order("after", "c1", minute=-60, lines=[("p-plain", "50.00")])
    engine = run(s, backend)
    team = {e.order: (e.beneficiary, e.amount) for e in engine.store.entries() if e.level == 2}
    assert team == {"after": ("bob", Decimal("1.00"))}
    assert not [e for e in engine.store.entries() if e.level > 2]  # alice is level 3: beyond max_levels 2


def test_replay_orders_keep_the_distributor_at_5_percent_without_live_rate_or_bonus(backend: str) -> None:
    s = network()
    s.live("L1", products=("p-feat",), start=0, end=30)
    s.add("replay.published", 40, live="L1", replay="R1")
    s.click("bob", "cust", minute=45, replay="R1")  # within the live's first hour, but on the replay
    s.order("o1", "cust", minute=50, lines=[("p-feat", "100.00")])
    engine = run(s, backend)
    (entry,) = engine.store.entries()
    assert (entry.beneficiary, entry.amount, entry.rule_ids) == ("bob", Decimal("5.00"), ("replay",))


def test_binding_first_click_is_kept_for_30_days(backend: str) -> None:
    s = network()
    s.distributor("dan")
    s.click("bob", "cust", minute=0, product="p-plain")
    s.click("dan", "cust", minute=10, product="p-plain")  # a later distributor does not steal the customer
    s.order("day29", "cust", day=29, lines=[("p-plain", "100.00")])
    s.order("day31", "cust", day=31, lines=[("p-plain", "100.00")])  # binding expired: nobody is paid
    engine = run(s, backend)
    assert {(e.order, e.beneficiary) for e in engine.store.entries()} == {("day29", "bob")}


def test_no_commission_on_a_distributors_own_orders(backend: str) -> None:
    s = network()
    s.click("bob", "bob", minute=0, product="p-plain")  # clicking one's own link records nothing
    s.order("own", "bob", minute=10, lines=[("p-plain", "100.00")])
    engine = run(s, backend)
    # bob is bound to alice (his upline's link): alice earns as level 1, bob earns nothing on his own order
    assert {(e.beneficiary, e.level, e.amount) for e in engine.store.entries()} == {("alice", 1, Decimal("5.00"))}


def test_settlement_pending_on_payment_approved_7_days_after_fulfilment(backend: str) -> None:
    s = network()
    s.click("bob", "cust", minute=0, product="p-plain")
    s.order("o1", "cust", minute=10)
    s.add("order.fulfilled", 0, day=1, order="o1")
    engine = run(s, backend)
    assert paid(engine, "bob", "pending") == Decimal("5.00")
    engine.settle(T0 + timedelta(days=8) - timedelta(seconds=1))
    assert paid(engine, "bob", "pending") == Decimal("5.00")
    assert engine.settle(T0 + timedelta(days=8)) == 1
    assert paid(engine, "bob", "approved") == Decimal("5.00") and paid(engine, "bob", "pending") == 0
    before = list(engine.store.entries())
    assert engine.settle(T0 + timedelta(days=9)) == 0  # running it twice changes nothing
    assert engine.store.entries() == before


def test_an_expired_binding_is_renewed_by_a_new_click_on_the_same_distributor(backend: str) -> None:
    s = network()
    s.click("bob", "cust", minute=0, product="p-plain")
    s.click("bob", "cust", day=40, product="p-plain")  # the first binding expired on day 30
    s.order("day41", "cust", day=41, lines=[("p-plain", "100.00")])
    engine = run(s, backend)
    assert [(e.order, e.beneficiary, e.amount) for e in engine.store.entries()] == [("day41", "bob", Decimal("5.00"))]


def test_the_live_leaderboard_counts_invited_qualified_orders_and_gmv(backend: str) -> None:
    from saleor_livedist.cli import default_fixture
    from saleor_livedist.core.events import read_events

    engine = run(list(read_events(default_fixture().read_text().splitlines())), backend)
    stats = {s.distributor: s for s in engine.store.live_stats("live-1")}
    bob = stats["bob"]
    # 12 viewers clicked bob's live link and frank used bob's coupon code (13 invited), 10 watched 5 minutes;
    # o-201, o-202, o-203 and frank's o-205 were paid on air, and o-203 was cancelled: three orders count, for
    # what their customers kept (o-201 less its 100.00 refund, o-202 less its refunded lipstick)
    assert (bob.invited, bob.qualified, bob.orders) == (13, 10, 3)
    assert bob.gmv == (Decimal("399.00") - Decimal("100.00")) + Decimal("108.00") + Decimal("349.00")
    assert set(stats) == {"bob"}  # the guest's order o-204 is nobody's


def test_a_join_or_heartbeat_after_the_live_ended_counts_nothing(backend: str) -> None:
    s = network()
    s.live("L1", start=0, end=10)
    s.click("bob", "v1", minute=-5, live="L1")
    s.add("live.heartbeat", 11, live="L1", viewer="v1")  # arrived late, dated after the end
    s.add("live.joined", 12, live="L1", viewer="v1", signed_in=True)
    engine = run(s, backend)
    assert engine.store.get_watch("L1", "v1") is None and points(engine, "bob") == 0
    assert any("had ended" in n for n in engine.notices)


def _beats(s: Stream, viewer: str, start: float, end: float, every: float = 0.25) -> None:
    """Heartbeats every 15 s (as the viewer endpoint sends them) from `start` up to and including `end`."""
    beat = start
    while beat <= end + 1e-9:
        s.add("live.heartbeat", beat, live="L1", viewer=viewer)
        beat += every


def test_a_tab_closed_without_a_leave_stops_counting_a_minute_after_its_last_heartbeat(backend: str) -> None:
    s = network()
    s.live("L1", start=0)
    for viewer in ("gone", "stayed"):
        s.click("bob", viewer, minute=-5, live="L1")
        s.add("live.joined", 1, live="L1", viewer=viewer, signed_in=True)
    _beats(s, "gone", 1.25, 3)  # closed the phone at minute 3: no leave ever comes
    _beats(s, "stayed", 1.25, 7)
    s.add("live.left", 7.1, live="L1", viewer="stayed")
    s.add("live.ended", 60, live="L1")
    engine = run(s, backend)
    gone, stayed = engine.store.get_watch("L1", "gone"), engine.store.get_watch("L1", "stayed")
    assert gone.open_count == 0 and gone.seconds == 3 * 60  # minute 1 to 3, plus the 60 s of grace
    assert stayed.seconds == 6.1 * 60
    assert [g.invitee for g in engine.store.points() if g.rule_ids == ("invite-watcher",)] == ["stayed"]


def test_a_silence_in_the_middle_does_not_count_and_the_viewer_counts_again_when_back(backend: str) -> None:
    s = network()
    s.live("L1", start=0, end=60)
    s.click("bob", "v1", minute=-5, live="L1")
    s.add("live.joined", 0, live="L1", viewer="v1", signed_in=True)
    _beats(s, "v1", 0.25, 2)
    _beats(s, "v1", 12, 16)  # ten minutes without a word: not watching
    s.add("live.left", 16, live="L1", viewer="v1")
    engine = run(s, backend)
    assert engine.store.get_watch("L1", "v1").seconds == (2 + 1) * 60 + 4 * 60  # 0-3 (with grace), 12-16
    assert points(engine, "bob") == 5  # qualified at minute 14 (5 minutes watched), not at minute 5


def test_the_silence_allowed_is_a_rule(backend: str) -> None:
    from saleor_livedist.rules.loader import default_rules_dir, load_rules_from_texts

    files = {p.name: p.read_text() for p in default_rules_dir().iterdir()}
    files["viewing.yaml"] = "schema: livedist/v1\nviewing:\n  silent_after_seconds: 900\n"
    s = network()
    s.live("L1", start=0, end=60)
    s.click("bob", "v1", minute=-5, live="L1")
    s.add("live.joined", 0, live="L1", viewer="v1", signed_in=True)
    s.add("live.heartbeat", 10, live="L1", viewer="v1")  # a player that reports every ten minutes
    s.add("live.left", 12, live="L1", viewer="v1")
    engine = run(s, backend, rules=load_rules_from_texts(files))
    assert engine.store.get_watch("L1", "v1").seconds == 12 * 60 and points(engine, "bob") == 5
    # the default, 60 s: minute 0-1, then 10-11 (the leave at 12 comes after another silence)
    assert run(s, backend).store.get_watch("L1", "v1").seconds == 60 + 60


def test_a_clip_link_converts_like_its_replay_while_the_replay_is_available(backend: str) -> None:
    s = network()
    s.live("L1", products=("p-feat",), start=0, end=60)
    s.add("replay.published", 70, live="L1", replay="R1", until=at(0, day=7))
    s.add("clip.published", 75, live="L1", clip="C1", replay="R1", until=at(0, day=7))
    s.add("clip.published", 75, live="L1", clip="C2")  # cut from the live itself: no end
    for n, (clip, day) in enumerate((("C1", 1), ("C1", 8), ("C2", 30))):
        s.click("bob", f"c{n}", minute=0, day=day, clip=clip)
        s.order(f"o{n}", f"c{n}", minute=5, day=day, lines=[("p-feat", "100.00")])
    engine = run(s, backend)
    by_order = {o: engine.store.get_order(o).snapshot.attribution for o in ("o0", "o1", "o2")}
    assert (by_order["o0"].context, by_order["o0"].live) == ("replay", "L1")  # during the replay's week
    assert (by_order["o1"].context, by_order["o1"].live) == ("none", None)  # the replay is gone: so is the clip
    assert (by_order["o2"].context, by_order["o2"].live) == ("replay", "L1")
    assert {e.order: e.rule_ids for e in engine.store.entries()} == {
        "o0": ("replay",), "o1": ("direct",), "o2": ("replay",)}  # paid to bob, by the replay rate only in it


def test_joining_in_a_live_room_unbound_puts_you_under_the_host_only_if_the_rules_say_so(backend: str) -> None:
    from saleor_livedist.rules.loader import default_rules_dir, load_rules_from_texts

    files = {p.name: p.read_text() for p in default_rules_dir().iterdir()}
    files["join.yaml"] = "schema: livedist/v1\njoin:\n  fee: 0\n  upline_fallback: host\n"
    host_rules = load_rules_from_texts(files)
    assert host_rules.join.upline_fallback == "host"
    s = Stream()
    s.distributor("host")
    s.distributor("bob")
    s.add("live.scheduled", -30, live="L1", starts_at=at(0), products=[], host="host")
    s.add("live.started", 0, live="L1")
    s.click("bob", "bound", minute=1, live="L1")
    s.add("distributor.joined", 5, customer="bound", live="L1")  # bob's link brought them: bob, always
    s.add("distributor.joined", 6, customer="walk-in", live="L1")  # no link: the host, if the rules say so
    s.add("distributor.joined", 7, customer="elsewhere")  # not from a live room: nobody
    hosted = run(s, backend, rules=host_rules)
    assert [hosted.store.get_distributor(w).upline for w in ("bound", "walk-in", "elsewhere")] == [
        "bob", "host", None]
    default = run(s, backend)
    assert [default.store.get_distributor(w).upline for w in ("bound", "walk-in", "elsewhere")] == ["bob", None, None]


def test_events_sent_on_air_but_processed_after_the_end_add_no_time_after_it(backend: str) -> None:
    s = network()
    s.live("L1", start=0)
    for viewer in ("v1", "v2"):
        s.click("bob", viewer, minute=-10, live="L1")
    s.add("live.joined", 55 + 20 / 60, live="L1", viewer="v1", signed_in=True)
    _beats(s, "v1", 55 + 35 / 60, 59 + 35 / 60)  # v1 watched 55:20 to 59:35, counted to the end: 280 s
    s.add("live.ended", 60, live="L1")
    s.add("live.heartbeat", 59 + 50 / 60, live="L1", viewer="v1")  # in flight at the end
    s.add("live.joined", 59.5, live="L1", viewer="v2", signed_in=True)  # v2 came in 30 s before the end...
    _beats(s, "v2", 60.25, 65)  # ...and their player kept beating after it
    s.order("o1", "v1", minute=61)
    engine = run(s, backend)
    assert engine.store.get_watch("L1", "v1").seconds == 280
    assert engine.store.get_watch("L1", "v2").seconds == 30
    assert points(engine, "bob") == 0  # nobody reached 5 minutes


def test_a_heartbeat_in_flight_at_the_end_extends_the_time_as_it_would_have_on_time(backend: str) -> None:
    s = network()
    s.live("L1", start=0)
    s.click("bob", "v1", minute=-10, live="L1")
    s.add("live.joined", 50, live="L1", viewer="v1", signed_in=True)
    _beats(s, "v1", 50.25, 55)  # 50:00 to 55:00, then the tab went quiet: counted to 56:00
    on_time, late = Stream(), Stream()
    on_time.raw = [*s.raw, {"id": "hb", "type": "live.heartbeat", "at": at(55.5), "live": "L1", "viewer": "v1"},
                   {"id": "end", "type": "live.ended", "at": at(60), "live": "L1"}]
    late.raw = [*s.raw, on_time.raw[-1], on_time.raw[-2]]  # the 55:30 heartbeat arrives after the end
    seconds = {name: run(stream, backend).store.get_watch("L1", "v1").seconds
               for name, stream in (("on time", on_time), ("late", late))}
    assert seconds == {"on time": 6.5 * 60, "late": 6.5 * 60}  # 50:00 to 56:30 either way
    assert points(run(late, backend), "bob") == 5
