"""The distributor's center in the sandbox, on real PostgreSQL: signing in with the customer's token (refused
without one, with a bad one, never from a query string), my links with their QR codes, posters and conversions,
earnings with their rules, tasks, the leaderboard, customers and prospects masked, tags and notes that no other
distributor can read or write, and cutting a clip of a replay."""
from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any
from xml.etree import ElementTree

import pytest
from django.test import Client
from django.utils import timezone

from saleor_livedist.center import people as center_people
from saleor_livedist.center.session import SESSION_COOKIE
from saleor_livedist.distribution.links import VISITOR_COOKIE, read_visitor
from saleor_livedist.distribution.services import ban_distributor
from saleor_livedist.identity import of_user
from saleor_livedist.inbox import processing
from saleor_livedist.live_room.questions import ask_question
from saleor_livedist.models import CustomerNote, CustomerTag, LiveClip, LiveReplay, LiveSession, ShareLink
from saleor_livedist.web.endpoints import sandbox_token
from tests.i18n.test_translated import zh
from tests.integration.test_api import a_live, join, order, share, user

pytestmark = pytest.mark.django_db(transaction=True)


def signed_in(who: Any, client: Client | None = None, lang: str = "") -> Client:
    """A browser that opened the center with `who`'s token (POSTed once, as the sign-in page's script does)."""
    client = client or Client()
    response = client.post("/center/session" + (f"?lang={lang}" if lang else ""),
                           {"token": sandbox_token(who), "next": "/center/links/"})
    assert response.status_code == 303 and response["Location"] == "/center/links/", response.content
    return client


def csrf(client: Client, path: str) -> str:
    page = client.get(path).content.decode()
    marker = 'name="csrf" value="'
    return page[page.index(marker) + len(marker):].split('"', 1)[0]


def card(page: str, element_id: str) -> str:
    """The HTML of one card of a page, from its id to the next card."""
    start = page.index(f'id="{element_id}"')
    end = page.find('<div class="card', start)
    return page[start: end if end > 0 else None]


def bought_through(distributor: Any, buyer: Any, kind: str, target: str, order_id: str, amount: str) -> None:
    """`buyer` clicks the distributor's link to `target` (a visitor of their own) and orders as themselves."""
    link = ShareLink.objects.filter(distributor=of_user(distributor), kind=kind, target=target).first()
    token = link.token if link else share(Client(), distributor, kind, target)["token"]
    browser = Client()
    visitor = read_visitor(browser.get(f"/click/{token}").cookies[VISITOR_COOKIE].value)
    order(buyer, order_id, amount, visitor=visitor)


def test_the_center_refuses_without_a_token_and_with_a_bad_one() -> None:
    amy = user("amy")
    join(Client(), amy)
    anonymous = Client().get("/center/links/")
    assert anonymous.status_code == 401 and "Open your distributor" in anonymous.content.decode()
    assert "frame-ancestors 'self'" in anonymous["Content-Security-Policy"]
    bad = Client().post("/center/session", {"token": sandbox_token(amy)[:-3] + "xyz"})
    assert bad.status_code == 401 and SESSION_COOKIE not in bad.cookies
    assert "not valid or has expired" in bad.content.decode()
    empty = Client().post("/center/session", {"token": ""})
    assert empty.status_code == 401 and "No sign-in token" in empty.content.decode()
    forged = Client()
    forged.cookies[SESSION_COOKIE] = "eyJpZCI6InVzZXI6MSJ9:forged"
    assert forged.get("/center/links/").status_code == 401
    # a token in the query string is not a way in (it would land in access logs)
    assert Client().get(f"/center/links/?token={sandbox_token(amy)}").status_code == 401
    # an admin session of the sandbox is no customer token either
    admin = Client()
    admin.force_login(amy)
    assert admin.get("/center/links/").status_code == 401


def test_a_token_signs_in_once_and_the_session_cookie_keeps_it(settings: Any) -> None:
    settings.LIVEDIST = {"CENTER_FRAME_ANCESTORS": ["https://shop.example.com"]}
    amy = user("amy")
    join(Client(), amy)
    client = signed_in(amy)
    cookie = client.cookies[SESSION_COOKIE]
    assert cookie["httponly"] and cookie["path"] == "/center/" and cookie["samesite"] == "Lax"
    page = client.get("/center/links/")
    assert page.status_code == 200 and "My links" in page.content.decode()
    assert page["Content-Security-Policy"] == "frame-ancestors 'self' https://shop.example.com"
    assert page["Cache-Control"] == "private, no-store" and page["Referrer-Policy"] == "no-referrer"
    bearer = Client().get("/center/earnings/", HTTP_AUTHORIZATION=f"Bearer {sandbox_token(amy)}")
    assert bearer.status_code == 200  # an app's web view may send the token as a header instead
    outside = Client().post("/center/session", {"token": sandbox_token(amy), "next": "https://evil.example/"})
    assert outside["Location"] == "/center/links/"  # only a page of the center
    amy.is_active = False
    amy.save()
    assert client.get("/center/links/").status_code == 401  # a deactivated account is signed out


def test_a_customer_who_is_no_distributor_joins_in_one_tap() -> None:
    ben = user("ben")
    client = signed_in(ben)
    page = client.get("/center/links/")
    assert page.status_code == 403 and "Become a distributor" in page.content.decode()
    token = csrf(client, "/center/links/")
    refused = client.post("/center/join/", {"csrf": token})
    assert refused.status_code == 400 and "agree to the distributor terms" in refused.content.decode()
    assert client.post("/center/join/", {"csrf": token, "consent": "yes"}).status_code == 303
    assert client.get("/center/links/").status_code == 200


def test_my_links_with_qr_codes_posters_and_what_each_converted() -> None:
    amy, ben, cleo = user("amy"), user("ben"), user("cleo")
    join(Client(), amy)
    a_live("L1")
    LiveSession.objects.create(id="L1", title="Night market", scheduled_start=timezone.now(),
                               featured_products=["p-lamp"])
    client = signed_in(amy)
    offered = client.get("/center/links/").content.decode()
    assert 'name="target" value="L1"' in offered and 'name="target" value="p-lamp"' in offered
    token = csrf(client, "/center/links/")
    got = client.post("/center/links/", {"csrf": token, "kind": "live", "target": "L1"})
    assert got.status_code == 303
    again = client.post("/center/links/", {"csrf": token, "kind": "live", "target": "L1"})
    assert again["Location"] == got["Location"]  # the same link, not a second one
    assert ShareLink.objects.filter(distributor=of_user(amy)).count() == 1
    unknown = client.post("/center/links/", {"csrf": token, "kind": "live", "target": "nope"})
    assert unknown.status_code == 400 and "there is no live" in unknown.content.decode()
    no_csrf = client.post("/center/links/", {"kind": "live", "target": "L1"})
    assert no_csrf.status_code == 403
    bought_through(amy, ben, "live", "L1", "o1", "200.00")
    bought_through(amy, cleo, "product", "p1", "o2", "50.00")
    page = client.get("/center/links/").content.decode()
    live_link = ShareLink.objects.get(distributor=of_user(amy), kind="live")
    live_card = card(page, f"link-{live_link.id}")
    assert "Night market" in live_card and '<b class="orders">1</b>' in live_card and "USD 200.00" in live_card
    assert '<b class="clicks">1</b>' in live_card and "USD 50.00" not in live_card
    assert f"http://testserver/click/{live_link.token}" in live_card and "<svg" in live_card
    product = ShareLink.objects.get(distributor=of_user(amy), kind="product")
    product_card = card(page, f"link-{product.id}")
    assert '<b class="orders">1</b>' in product_card and "USD 50.00" in product_card
    assert page.index(f'id="link-{live_link.id}"') < page.index(f'id="link-{product.id}"')  # best first

    qr = client.get(f"/center/links/{live_link.id}/qr.svg")
    assert qr["Content-Type"].startswith("image/svg+xml")
    assert ElementTree.fromstring(qr.content).tag == "{http://www.w3.org/2000/svg}svg"
    poster = client.get(f"/center/links/{live_link.id}/poster.svg").content.decode()
    ElementTree.fromstring(poster)  # well-formed
    assert "Night market" in poster and "a***@example.com" in poster and "<path" in poster
    other = user("otto")
    join(Client(), other)
    assert signed_in(other).get(f"/center/links/{live_link.id}/poster.svg").status_code == 404  # not theirs


def test_earnings_by_status_with_the_rule_that_paid_each() -> None:
    amy, ben = user("amy"), user("ben")
    join(Client(), amy)
    bought_through(amy, ben, "product", "p1", "o1", "200.00")
    client = signed_in(amy)
    page = client.get("/center/earnings/").content.decode()
    totals = page[page.index('class="card totals"'):]
    for status, amount in (("pending", "USD 10.00"), ("approved", "USD 0.00"), ("paid", "USD 0.00"),
                           ("reversed", "USD 0.00")):
        block = totals[totals.index(f'status-{status}"'):]
        assert amount in block[:120], status
    entries = page[page.index('id="entries"'):]
    assert 'data-order="o1"' in entries and "direct (5%)" in entries and "USD 10.00" in entries
    zh_page = client.get("/center/earnings/?lang=zh-Hans").content.decode()
    assert zh("Earnings") in zh_page and zh("pending") in zh_page


def live_room(live: str, started_minutes_ago: int = 30) -> LiveSession:
    """A live on air (the engine's and the live room's record of it)."""
    start = timezone.now() - timedelta(minutes=started_minutes_ago)
    for event in ({"id": f"ls-{live}", "type": "live.scheduled", "at": start.isoformat(), "live": live,
                   "starts_at": start.isoformat(), "products": []},
                  {"id": f"st-{live}", "type": "live.started", "at": start.isoformat(), "live": live}):
        processing.submit(event)
    return LiveSession.objects.create(id=live, title=f"Live {live}", scheduled_start=start, actual_start=start,
                                      status=LiveSession.LIVE)


def clicked(distributor: Any, who: str, live: str, n: int) -> None:
    at = timezone.now() - timedelta(minutes=10)  # before they join
    processing.submit({"id": f"k-{live}-{n}", "type": "link.clicked", "at": at.isoformat(),
                       "distributor": of_user(distributor), "visitor": who, "target": {"live": live}})


def watched(who: str, live: str, n: int, minutes: int = 6) -> None:
    start = timezone.now() - timedelta(minutes=minutes + 1)
    processing.submit({"id": f"j-{live}-{n}", "type": "live.joined", "at": start.isoformat(), "live": live,
                       "viewer": who, "signed_in": True})
    for m in range(1, minutes + 1):
        processing.submit({"id": f"h-{live}-{n}-{m}", "type": "live.heartbeat", "live": live, "viewer": who,
                           "at": (start + timedelta(minutes=m)).isoformat()})


@pytest.fixture
def prospects() -> dict[str, Any]:
    """amy's people: ben bought through her link, cleo clicked and did not buy, dan watched the live he was
    invited to without ordering, eve clicked and had a question queued for the host; otto is another distributor
    whose link ben also clicked."""
    people = {name: user(name) for name in ("amy", "ben", "cleo", "dan", "eve", "otto")}
    amy = people["amy"]
    join(Client(), amy)
    join(Client(), people["otto"])
    live_room("L7")
    bought_through(amy, people["ben"], "product", "p1", "o1", "80.00")
    for n, name in enumerate(("cleo", "dan", "eve"), 1):
        clicked(amy, of_user(people[name]), "L7", n)
    watched(of_user(people["dan"]), "L7", 1)
    ask_question("L7", of_user(amy), "Does the dress come in blue?", customer=of_user(people["eve"]))
    clicked(people["otto"], of_user(people["ben"]), "L7", 9)
    return people


def test_my_customers_and_prospects_are_masked_with_a_next_step_each(prospects: dict[str, Any]) -> None:
    page = signed_in(prospects["amy"]).get("/center/people/").content.decode()
    for name, stage, step in (("ben", "bought", "Invite them to your next live."),
                              ("cleo", "clicked", "Send the link again with your coupon code"),
                              ("dan", "watched", "Send the replay and your coupon."),
                              ("eve", "asked", "Send the answer to their question")):
        ref = center_people.ref_of(of_user(prospects["amy"]), of_user(prospects[name]))
        block = card(page, f"p-{ref}")
        assert f'data-stage="{stage}"' in block and step in block, name
        assert f"{name[0]}***@example.com" in block and f"{name}@example.com" not in block
    assert "user:" not in page  # no identity is ever shown
    assert "otto@" not in page and "o***@example.com" not in page  # the other distributor is not amy's
    ben_ref = center_people.ref_of(of_user(prospects["amy"]), of_user(prospects["ben"]))
    assert '<b>1</b>' in card(page, f"p-{ben_ref}")  # one order through amy
    only = signed_in(prospects["amy"]).get("/center/people/?stage=watched").content.decode()
    assert "d***@example.com" in only and "c***@example.com" not in only
    zh_page = signed_in(prospects["amy"]).get("/center/people/?lang=zh-Hans").content.decode()
    assert zh("Send the replay and your coupon.") in zh_page and zh("Customers and prospects") in zh_page


def test_tags_and_notes_are_the_distributors_own(prospects: dict[str, Any]) -> None:
    amy, otto, ben = prospects["amy"], prospects["otto"], prospects["ben"]
    amy_client, otto_client = signed_in(amy), signed_in(otto)
    ben_for_amy = center_people.ref_of(of_user(amy), of_user(ben))
    token = csrf(amy_client, "/center/people/")
    assert amy_client.post("/center/people/", {"csrf": token, "action": "tag", "person": ben_for_amy,
                                               "tag": "  VIP   buyer "}).status_code == 303
    assert amy_client.post("/center/people/", {"csrf": token, "action": "note", "person": ben_for_amy,
                                               "note": "likes blue dresses"}).status_code == 303
    again = amy_client.post("/center/people/", {"csrf": token, "action": "tag", "person": ben_for_amy,
                                                "tag": "VIP buyer"})
    assert again.status_code == 400 and "has that tag already" in again.content.decode()
    too_long = amy_client.post("/center/people/", {"csrf": token, "action": "tag", "person": ben_for_amy,
                                                   "tag": "x" * 33})
    assert too_long.status_code == 400 and "1 to 32 printable characters" in too_long.content.decode()
    assert list(CustomerTag.objects.values_list("distributor", "tag")) == [(of_user(amy), "VIP buyer")]
    amy_page = amy_client.get("/center/people/").content.decode()
    assert "VIP buyer" in card(amy_page, f"p-{ben_for_amy}") and "likes blue dresses" in amy_page

    # otto: ben clicked his link too, so ben is otto's prospect, but amy's tags and note are not his to see...
    otto_page = otto_client.get("/center/people/").content.decode()
    ben_for_otto = center_people.ref_of(of_user(otto), of_user(ben))
    assert f'id="p-{ben_for_otto}"' in otto_page
    assert "VIP buyer" not in otto_page and "likes blue dresses" not in otto_page
    # ...nor to change: amy's reference means nothing in otto's center, and cleo is not otto's at all
    otto_token = csrf(otto_client, "/center/people/")
    cleo_for_amy = center_people.ref_of(of_user(amy), of_user(prospects["cleo"]))
    for ref, action, extra in ((ben_for_amy, "untag", {"tag": "VIP buyer"}), (ben_for_amy, "note", {"note": "x"}),
                               (cleo_for_amy, "tag", {"tag": "spam"})):
        refused = otto_client.post("/center/people/", {"csrf": otto_token, "action": action, "person": ref, **extra})
        assert refused.status_code == 404 and "not one of your customers" in refused.content.decode()
    # amy's form token does not work in otto's session either
    assert otto_client.post("/center/people/", {"csrf": token, "action": "tag", "person": ben_for_otto,
                                                "tag": "x"}).status_code == 403
    assert otto_client.post("/center/people/", {"csrf": otto_token, "action": "tag", "person": ben_for_otto,
                                                "tag": "otto's"}).status_code == 303
    assert sorted(CustomerTag.objects.values_list("distributor", "tag")) == sorted(
        [(of_user(amy), "VIP buyer"), (of_user(otto), "otto's")])
    assert "otto's" not in amy_client.get("/center/people/").content.decode()
    assert CustomerNote.objects.get().distributor == of_user(amy)
    # removing: the tag goes, an empty note removes the note
    assert amy_client.post("/center/people/", {"csrf": token, "action": "untag", "person": ben_for_amy,
                                               "tag": "VIP buyer"}).status_code == 303
    assert amy_client.post("/center/people/", {"csrf": token, "action": "note", "person": ben_for_amy,
                                               "note": "  "}).status_code == 303
    assert not CustomerNote.objects.exists() and not CustomerTag.objects.filter(distributor=of_user(amy)).exists()


def test_my_tasks_and_the_leaderboard_of_a_live() -> None:
    amy, ben = user("amy"), user("ben")
    join(Client(), amy)
    join(Client(), ben)
    live_room("L8")
    for n in range(3):
        clicked(amy, f"visitor:l8-{n}", "L8", n)
        watched(f"visitor:l8-{n}", "L8", n)
    clicked(ben, "visitor:l8-b", "L8", 10)
    client = signed_in(amy)
    page = client.get("/center/tasks/?live=L8").content.decode()
    ten = page[page.index('data-task="ten-watchers"'):]
    ten = ten[: ten.find('<div class="card', 10)]
    assert '<b class="invited">3</b>' in ten and '<b class="entered">3</b>' in ten
    assert '<b class="qualified">3</b>' in ten and '<b class="target">10</b>' in ten
    assert "at 10 qualified: 50 points" in ten and 'aria-valuenow="30"' in ten
    each = page[page.index('data-task="invite-watcher"'):]
    assert "each qualified invitee: 5 points" in each[: each.find('<div class="card', 10)]
    board = client.get("/center/leaderboard/L8?by=invited").content.decode()
    assert "You are number 1." in board and "a***@example.com" in board and "b***@example.com" in board
    assert "amy@example.com" not in board
    assert signed_in(ben).get("/center/leaderboard/L8?by=invited").content.decode().count("You are number 2.") == 1
    ban_distributor(of_user(amy), "fake invites")  # off the public board: ben is number 1 there and here
    ben_board = signed_in(ben).get("/center/leaderboard/L8?by=invited").content.decode()
    assert "You are number 1." in ben_board and "a***@example.com" not in ben_board
    assert client.get("/center/leaderboard/nope").status_code == 404


def test_a_distributor_cuts_a_clip_of_a_replay_and_gets_its_link() -> None:
    amy = user("amy")
    join(Client(), amy)
    live = live_room("L9", started_minutes_ago=120)
    live.actual_end = live.actual_start + timedelta(minutes=90)
    live.status = LiveSession.ENDED
    live.save()
    LiveReplay.objects.create(id="r9", live=live, url="https://live.example.com/r9.m3u8",
                              available_from=timezone.now() - timedelta(minutes=5))
    client = signed_in(amy)
    page = client.get("/center/clip/").content.decode()
    assert "Live L9 (1:30:00)" in page
    token = csrf(client, "/center/clip/")
    for start, end, message in (("10:00", "95:00", "the replay is 1:30:00 long"), ("10:00", "10:01", "at least 3"),
                                ("ten", "11:00", "write a time in the replay"), ("1:75", "2:00", "go up to 59")):
        refused = client.post("/center/clip/", {"csrf": token, "replay": "r9", "start": start, "end": end})
        assert refused.status_code == 400 and message in refused.content.decode(), (start, end)
    assert not LiveClip.objects.exists() and not ShareLink.objects.exists()
    gone = client.post("/center/clip/", {"csrf": token, "replay": "nope", "start": "1:00", "end": "2:00"})
    assert gone.status_code == 400 and "no replay" in gone.content.decode()
    made = client.post("/center/clip/", {"csrf": token, "replay": "r9", "start": "10:00", "end": "11:30",
                                         "title": "The blue dress"})
    assert made.status_code == 303
    clip = LiveClip.objects.get()
    assert (clip.start_seconds, clip.end_seconds, clip.replay_id, clip.title) == (600, 690, "r9", "The blue dress")
    link = ShareLink.objects.get(distributor=of_user(amy), kind="clip", target=clip.id)
    assert made["Location"] == f"/center/links/#link-{link.id}"
    again = client.post("/center/clip/", {"csrf": token, "replay": "r9", "start": "600", "end": "0:11:30"})
    assert again["Location"] == made["Location"] and LiveClip.objects.count() == 1  # the same clip, the same link
    links_page = client.get("/center/links/").content.decode()
    assert "The blue dress" in card(links_page, f"link-{link.id}")


def test_a_distributor_withdraws_approved_commission_and_spends_points(settings: Any) -> None:
    from saleor_livedist.payouts import services as payouts

    settings.LIVEDIST = {"WITHDRAWAL_MINIMUM": {"USD": "5"}}
    amy, ben = user("amy"), user("ben")
    join(Client(), amy)
    bought_through(amy, ben, "product", "p1", "o1", "200.00")  # 5% = 10.00 pending
    processing.submit({"id": "f-o1", "type": "order.fulfilled", "at": timezone.now().isoformat(), "order": "o1"})
    processing.settle(timezone.now() + timedelta(days=8))  # 7 days after fulfilment: approved
    live_room("L5")
    for n in range(10):  # ten invitees watch: 10 x 5 points + 50 for the target = 100 points
        clicked(amy, f"visitor:l5-{n}", "L5", n)
        watched(f"visitor:l5-{n}", "L5", n)
    client = signed_in(amy)
    page = client.get("/center/earnings/").content.decode()
    assert '<b class="available">USD 10.00</b>' in page and "The smallest withdrawal is USD 5.00." in page
    assert '<b class="points">100</b>' in page and "10 points buy CNY 1.00, from 50 points." in page
    token = csrf(client, "/center/earnings/")
    request = page.split('name="request" value="', 1)[1].split('"', 1)[0]
    form = {"csrf": token, "request": request, "currency": "USD", "method": "alipay", "name": "Amy Li",
            "number": "amy.alipay.account"}
    over = client.post("/center/earnings/withdraw", {**form, "amount": "20.00"})
    assert over.status_code == 400 and "at most 10.00 USD" in over.content.decode()
    no_bank = client.post("/center/earnings/withdraw", {**form, "amount": "10.00", "method": "bank",
                                                        "number": "6222 0000 1111 2222"})
    assert no_bank.status_code == 400 and "name the bank" in no_bank.content.decode()
    assert client.post("/center/earnings/withdraw", {**form, "amount": "10.00"}).status_code == 303
    assert client.post("/center/earnings/withdraw", {**form, "amount": "10.00"}).status_code == 303  # sent twice
    withdrawal = payouts.withdrawals_of(of_user(amy)).get()
    assert (withdrawal.amount, withdrawal.status) == (Decimal("10.00"), "requested")
    after = client.get("/center/earnings/?done=withdrawal").content.decode()
    assert "Your withdrawal is requested" in after and '<b class="being-paid">USD 10.00</b>' in after
    assert "amy.alipay.account" not in after and withdrawal.account_masked in after
    payouts.approve_withdrawal(withdrawal.id, "approve-1", "user:staff")
    batch = payouts.create_payout_batch("USD", "batch-1", "user:staff")
    payouts.mark_batch_paid(batch.id, "paid-1", "user:staff")
    paid = client.get("/center/earnings/").content.decode()
    totals = paid[paid.index('class="card totals"'):]
    assert "USD 10.00" in totals[totals.index('status-paid"'):][:120]
    assert "USD 0.00" in totals[totals.index('status-approved"'):][:120]

    redeem = {"csrf": token, "request": "r-1", "kind": "voucher"}
    odd = client.post("/center/earnings/redeem", {**redeem, "points": "55"})
    assert odd.status_code == 400 and "a multiple of 10" in odd.content.decode()
    assert client.post("/center/earnings/redeem", {**redeem, "points": "ten"}).status_code == 400
    assert client.post("/center/earnings/redeem", {**redeem, "points": "60"}).status_code == 303
    assert client.post("/center/earnings/redeem", {**redeem, "points": "60"}).status_code == 303  # sent twice
    spent = client.get("/center/earnings/?done=redemption").content.decode()
    assert '<b class="points">40</b>' in spent and "CNY 6.00" in spent
    code = spent.split('<b class="code">', 1)[1].split("<", 1)[0]
    assert code and "you have 40 points; a redemption needs at least 50" in spent
    zh_page = client.get("/center/earnings/?lang=zh-Hans").content.decode()
    assert zh("Withdraw") in zh_page and zh("voucher") in zh_page


def test_a_sign_in_posted_from_a_site_not_trusted_is_refused(settings: Any) -> None:
    """Another site posting its own token would sign a visitor in as someone else (login CSRF): refused, no cookie;
    the center's own pages and the storefronts it may be framed by are trusted."""
    settings.LIVEDIST = {"CENTER_FRAME_ANCESTORS": ["https://shop.example.com"]}
    amy = user("amy")
    join(Client(), amy)
    for origin, status in [("https://evil.example", 403), ("null", 403), ("https://shop.example.com", 303),
                           ("http://testserver", 303)]:
        client = Client()
        response = client.post("/center/session", {"token": sandbox_token(amy)}, HTTP_ORIGIN=origin)
        assert response.status_code == status, origin
        assert (SESSION_COOKIE in response.cookies) is (status == 303), origin
    refused = Client().post("/center/session?lang=zh-Hans", {"token": sandbox_token(amy)},
                            HTTP_ORIGIN="https://evil.example")
    assert "This sign-in came from a site the center does not trust." not in refused.content.decode()
    assert zh("This sign-in came from a site the center does not trust. Open the center again from the store.") \
        in refused.content.decode()
