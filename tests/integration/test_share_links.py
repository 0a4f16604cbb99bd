"""Share links on real PostgreSQL: a target is percent-encoded where it lands and can never carry a ref of its
own; links point only at lives, replays, clips and products that exist; a visitor id that travelled in a URL
cannot hand one person's binding and history to another who signs in with it."""
from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

import pytest
from django.test import Client, override_settings
from django.utils import timezone

from saleor_livedist.inbox import processing
from saleor_livedist.web.endpoints import sandbox_token
from saleor_livedist.identity import of_user
from saleor_livedist.distribution.links import VISITOR_COOKIE, read_visitor, sign_visitor
from saleor_livedist.models import Alias, Binding, Click, Watch
from saleor_livedist.distribution.services import ServiceError, create_share_link

from .test_api import SHARE, a_live, gql, join, user

pytestmark = pytest.mark.django_db(transaction=True)

SMUGGLING = ["x?livedist_ref=evil", "x#", "x#livedist_ref=evil", "/../", "a/../../admin", "x&livedist_ref=evil",
             "x?livedist_visitor=evil", "100% off", "x\\y", "ü/ß?é"]


def landing(client: Client, who: Any, kind: str, target: str) -> str:
    result = gql(client, SHARE, who, k=kind, t=target)["data"]["createShareLink"]
    assert result["errors"] == [], (target, result["errors"])
    link = result["shareLink"]
    clicked = Client().get(link["url"])
    assert clicked.status_code == 302
    return str(clicked["Location"])


@pytest.mark.parametrize("template", [
    "https://shop.example.com/{kind}/{target}?livedist_ref={token}",
    "https://shop.example.com/go?item={target}&kind={kind}&livedist_ref={token}",
    "https://shop.example.com/#/{kind}/{target}?livedist_ref={token}",
])
def test_targets_are_percent_encoded_and_never_carry_a_ref(template: str) -> None:
    client, amy = Client(), user("amy")
    join(client, amy)
    with override_settings(LIVEDIST={"STOREFRONT_URL": template}):
        for target in SMUGGLING:
            a_live(target)  # the engine's lives may have any id
            url = landing(client, amy, "live", target)
            parts = urlsplit(url)
            query = parse_qs(parts.query)  # a hash-routed storefront has its part of the query in the fragment
            for name, values in parse_qs(parts.fragment.split("?", 1)[1] if "?" in parts.fragment else "").items():
                query.setdefault(name, []).extend(values)
            token = query["livedist_ref"]
            assert len(token) == 1 and token[0] != "evil", url  # the one ref, ours
            assert len(query["livedist_visitor"]) == 1 and query["livedist_visitor"][0] != "evil", url
            assert "/../" not in url and url.count("#") == template.count("#"), url  # no path or fragment of its own
            assert target in {unquote(part) for part in url.replace("?", "/").replace("&", "/").replace("=", "/")
                              .split("/")}, url  # the storefront reads the target back whole


def test_share_links_to_unknown_or_malformed_targets_are_refused() -> None:
    client, amy = Client(), user("amy")
    join(client, amy)

    def refused(kind: str, target: str) -> dict[str, Any]:
        errors = gql(client, SHARE, amy, k=kind, t=target)["data"]["createShareLink"]["errors"]
        assert len(errors) == 1 and errors[0]["field"] == "target", (kind, target, errors)
        return dict(errors[0])

    for kind in ("live", "replay", "clip"):
        error = refused(kind, "nope")
        assert error["code"] == "NOT_FOUND" and f"no {kind} 'nope'" in error["message"]
    for target in (".", "..", " x", "a\tb", "x" * 256):
        assert refused("live", target)["code"] == "INVALID"
    with pytest.raises(ServiceError, match="printable"):  # (the API refuses a NUL before: BAD_REQUEST)
        create_share_link(of_user(amy), "live", "a\u0000b")
    for target in SMUGGLING + ["p 1", ""]:
        assert refused("product", target)["code"] in ("INVALID", "NOT_FOUND") or target == ""
    assert not Click.objects.exists()
    # What exists is shareable: the engine's lives, replays and clips, the lives staff run, products by slug.
    a_live("L1")
    at = timezone.now().isoformat()
    processing.submit({"id": "r1", "type": "replay.published", "at": at, "live": "L1", "replay": "R1"})
    processing.submit({"id": "c1", "type": "clip.published", "at": at, "live": "L1", "clip": "C1", "replay": "R1"})
    for kind, target in [("live", "L1"), ("replay", "R1"), ("clip", "C1"), ("product", "blue-dress_2"),
                         ("product", "연필")]:
        assert create_share_link(of_user(amy), kind, target).target == target
    with pytest.raises(ServiceError, match="no clip 'R1'"):
        create_share_link(of_user(amy), "clip", "R1")


def test_a_visitor_id_from_a_url_cannot_take_over_anothers_binding(settings: Any) -> None:
    """Amy's visitor id travels in her landing URL. Once it is Amy's (she signed in with it), Ben signing in
    with the same id, through the viewer endpoint or an order's checkout metadata, gets none of it."""
    client, dist, amy, ben = Client(), user("dist"), user("amy"), user("ben")
    join(client, dist)
    a_live("L1")
    link = gql(client, SHARE, dist, k="live", t="L1")["data"]["createShareLink"]["shareLink"]
    browser = Client()
    location = browser.get(link["url"])["Location"]
    visitor = read_visitor(browser.cookies[VISITOR_COOKIE].value)
    from_url = parse_qs(urlsplit(location).query)["livedist_visitor"][0]
    assert read_visitor(from_url) == visitor
    at = timezone.now().isoformat()
    processing.submit({"id": "reg-amy", "type": "customer.registered", "at": at, "customer": of_user(amy),
                       "visitor": visitor})  # Amy signs up in that browser
    assert Alias.objects.get(visitor=visitor).customer == of_user(amy)
    assert Binding.objects.get(identity=of_user(amy)).distributor == of_user(dist)
    # Ben found the URL: he signs up with it, orders with it in his checkout, and calls the viewer endpoint.
    processing.submit({"id": "reg-ben", "type": "customer.registered", "at": at, "customer": of_user(ben),
                       "visitor": visitor})
    processing.submit({"id": "o-ben", "type": "order.created", "at": at, "order": "o-ben", "customer": of_user(ben),
                       "channel": "default", "currency": "USD", "visitor": visitor,
                       "lines": [{"line": "1", "product": "p1", "amount": "10.00"}]})
    assert Alias.objects.get(visitor=visitor).customer == of_user(amy)  # still Amy's
    assert not Binding.objects.filter(identity=of_user(ben)).exists()
    assert Binding.objects.get(identity=of_user(amy)).distributor == of_user(dist)
    # A guest's claim is weak (anyone may type an e-mail): an account still takes a guest's visitor id over.
    other = "visitor:" + "9" * 24
    processing.submit({"id": "g", "type": "customer.registered", "at": at, "customer": "guest:g@example.com",
                       "visitor": other})
    processing.submit({"id": "reg-ben-2", "type": "customer.registered", "at": at, "customer": of_user(ben),
                       "visitor": other})
    assert Alias.objects.get(visitor=other).customer == of_user(ben)
    assert sign_visitor(visitor) and sandbox_token(ben)  # (the helpers the storefront and API use)
    assert not Watch.objects.filter(viewer=of_user(ben)).exists()
