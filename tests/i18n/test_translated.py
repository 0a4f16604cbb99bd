"""What a person sees, in zh-Hans when they ask for it and in English otherwise, on real PostgreSQL: the API's
errors (request, field and mutation errors), the viewer endpoint's (from the Django view and from the lean
app's batch thread), the share-link endpoint's, the widget, and the reminder e-mail. The expected Chinese is
looked up in the committed catalogue, never copied here; codes stay the same in every language."""
from __future__ import annotations

import json
from datetime import timedelta
from functools import cache
from io import BytesIO
from typing import Any

import pytest
from django.core import mail
from django.test import Client
from django.utils import timezone

from saleor_livedist.models import LiveSession
from saleor_livedist.web.endpoints import sandbox_token
from tests.i18n.po import read_po
from tests.i18n.test_catalogue import po_path
from tests.integration.test_api import gql, user

pytestmark = pytest.mark.django_db(transaction=True)

ZH = {"HTTP_ACCEPT_LANGUAGE": "zh-Hans"}
SHARE = """mutation { createShareLink(kind: "live", target: "l1") { shareLink { token } errors { field code message } } }"""


@cache
def catalogue() -> dict[str, str]:
    return {entry.msgid: entry.msgstr[0] for entry in read_po(po_path()) if entry.msgid}


def zh(msgid: str, **params: Any) -> str:
    """The committed zh-Hans translation of an English message, with its placeholders filled."""
    text = catalogue()[msgid]
    assert text and text != msgid
    return text % params if params else text


def test_a_mutation_error_in_zh_hans_with_accept_language_and_in_english_without() -> None:
    client, amy = Client(), user("amy")
    english = "only distributors can create share links; become one first"
    [error] = gql(client, SHARE, amy)["data"]["createShareLink"]["errors"]
    assert error == {"field": None, "code": "NOT_A_DISTRIBUTOR", "message": english}
    response = client.post("/graphql/", {"query": SHARE}, content_type="application/json",
                           HTTP_AUTHORIZATION=f"Bearer {sandbox_token(amy)}", **ZH)
    [error] = response.json()["data"]["createShareLink"]["errors"]
    assert error == {"field": None, "code": "NOT_A_DISTRIBUTOR", "message": zh(english)}
    assert response["Content-Language"] == "zh-hans" and "Accept-Language" in response["Vary"]


def test_request_and_field_errors_follow_accept_language() -> None:
    client = Client()
    response = client.post("/graphql/", b"{not json", content_type="application/json", **ZH)
    assert response.status_code == 400
    assert response.json()["errors"] == [{"message": zh("the body is not valid JSON"),
                                          "extensions": {"code": "BAD_REQUEST"}}]
    response = client.post("/graphql/", b"{not json", content_type="application/json")
    assert response.json()["errors"][0]["message"] == "the body is not valid JSON"
    query = {"query": "{ me { rank } }"}
    english = client.post("/graphql/", query, content_type="application/json").json()["errors"][0]
    chinese = client.post("/graphql/", query, content_type="application/json",
                          HTTP_ACCEPT_LANGUAGE="zh-CN,zh;q=0.9").json()["errors"][0]
    assert english["message"] == "sign in to use this field"
    assert chinese == {**english, "message": zh("sign in to use this field")}


def test_a_message_with_placeholders_in_zh_hans() -> None:
    client = Client()
    boss = user("boss", staff=True)
    query = 'mutation { liveStart(id: "nope") { live { id } errors { field code message } } }'
    response = client.post("/graphql/", {"query": query}, content_type="application/json",
                           HTTP_AUTHORIZATION=f"Bearer {sandbox_token(boss)}", **ZH)
    [error] = response.json()["data"]["liveStart"]["errors"]
    assert error == {"field": "id", "code": "NOT_FOUND", "message": zh("no live %(id)r", id="nope")}


def lean_call(environ: dict[str, str], body: bytes) -> tuple[str, dict[str, Any]]:
    from saleor_livedist.viewers.app import ViewerApp

    app = ViewerApp(path="/viewer/")  # its batch thread decides whether the live is on air
    try:
        replies: dict[str, Any] = {}
        content = b"".join(app({"REQUEST_METHOD": "POST", "PATH_INFO": "/viewer/", "wsgi.input": BytesIO(body),
                                "CONTENT_LENGTH": str(len(body)), "REMOTE_ADDR": "127.0.0.9", **environ},
                               lambda status, headers: replies.update(status=status)))
        return replies["status"], json.loads(content)
    finally:
        app.close()


def test_viewer_errors_in_zh_hans_from_the_django_view_and_from_the_lean_apps_batch_thread() -> None:
    LiveSession.objects.create(id="soon", title="Soon", scheduled_start=timezone.now() + timedelta(hours=1))
    body = b'{"live": "soon", "action": "join"}'
    expected = zh("live %(live)r is not on air yet; nothing was recorded", live="soon")
    response = Client().post("/viewer/", body, content_type="application/json", **ZH)
    assert response.status_code == 409
    assert response.json()["errors"] == [{"code": "LIVE_NOT_STARTED", "message": expected}]
    status, answer = lean_call(ZH, body)
    assert status.startswith("409") and answer["errors"] == [{"code": "LIVE_NOT_STARTED", "message": expected}]
    status, answer = lean_call({}, body)
    assert answer["errors"][0]["message"] == "live 'soon' is not on air yet; nothing was recorded"
    status, answer = lean_call(ZH, b"[]")
    assert answer["errors"][0]["message"] == zh('the body must be a JSON object such as {"live": "live-1", '
                                                '"action": "heartbeat", "tab": "t1"}')


def test_a_share_link_error_in_zh_hans() -> None:
    response = Client().get("/click/forged-token", **ZH)
    assert response.status_code == 400
    assert response.json()["errors"] == [{"code": "TAMPERED", "message": zh(
        "this share link is not one we issued, or it was altered")}]


def test_the_widget_page_in_zh_hans_by_lang_parameter() -> None:
    LiveSession.objects.create(id="l7", title="Night market", scheduled_start=timezone.now())
    page = Client().get("/widget/leaderboard/l7/?lang=zh-Hans", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert '<html lang="zh-hans">' in page
    assert zh("%(title)s · leaderboard", title="Night market") in page
    assert zh("%%(orders)s orders · %%(invited)s invited · %%(qualified)s qualified").replace("%%", "%") in page
    english = Client().get("/widget/leaderboard/l7/").content.decode()
    assert "Night market · leaderboard" in english and '<html lang="en">' in english
    missing = Client().get("/widget/leaderboard/nope/?lang=zh-Hans").json()
    assert missing["errors"] == [{"code": "LIVE_NOT_FOUND", "message": zh("no live %(id)r", id="nope")}]


def test_the_reminder_e_mail_in_the_projects_language(settings: Any) -> None:
    from saleor_livedist.live_room.reminders import by_email

    ann = user("ann")
    live = LiveSession.objects.create(id="l8", title="Autumn dresses", scheduled_start=timezone.now(),
                                      stream_url="https://shop.example.com/live/l8")
    settings.LANGUAGE_CODE = "zh-hans"
    assert by_email(live, f"user:{ann.pk}", "ann@example.com")
    settings.LANGUAGE_CODE = "en"
    assert by_email(live, f"user:{ann.pk}", "ann@example.com")
    chinese, english = mail.outbox
    assert chinese.subject == zh("%(title)s is live now", title="Autumn dresses")
    assert chinese.body == zh("%(title)s has started. Join now: %(url)s", title="Autumn dresses",
                              url="https://shop.example.com/live/l8")
    assert english.subject == "Autumn dresses is live now"
