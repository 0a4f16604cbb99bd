"""The sandbox's admin in zh-Hans (LocaleMiddleware, from Accept-Language): the models' names, field labels,
choices and action messages from the catalogue; and the migrations keep up with the models' labels."""
from __future__ import annotations

import io
import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.test import Client
from django.utils import timezone

from saleor_livedist.models import LiveSession
from tests.i18n.test_translated import zh

pytestmark = pytest.mark.django_db(transaction=True)
ZH = {"HTTP_ACCEPT_LANGUAGE": "zh-Hans"}


@pytest.fixture
def staff() -> Client:
    client = Client()
    client.force_login(get_user_model().objects.create_superuser("boss", "boss@example.com", "pw"))
    return client


def test_the_lives_page_in_zh_hans(staff: Client) -> None:
    LiveSession.objects.create(id="l1", title="Night market", scheduled_start=timezone.now())
    page = staff.get("/admin/saleor_livedist/livesession/", **ZH).content.decode()
    for english in ("lives", "scheduled start", "Start the selected lives (now)", "scheduled"):
        assert zh(english) in page, english
    english_page = staff.get("/admin/saleor_livedist/livesession/").content.decode()
    assert "Scheduled start" in english_page and zh("scheduled start") not in english_page


def test_an_admin_action_answers_in_zh_hans(staff: Client) -> None:
    LiveSession.objects.create(id="l2", title="Night market", scheduled_start=timezone.now())
    def start() -> list[str]:
        response = staff.post("/admin/saleor_livedist/livesession/", {"action": "start", "_selected_action": ["l2"]},
                              follow=True, **ZH)
        return [str(message) for message in response.context["messages"]]

    assert start() == [zh("%(live)s started", live="l2")]
    status = zh("live")  # the status's label: the live is on air
    assert start() == ["l2: " + zh("the live is %(status)s; only a scheduled live can start", status=status)]


def test_the_migrations_are_in_step_with_the_models_labels() -> None:
    out = io.StringIO()
    try:
        call_command("makemigrations", "saleor_livedist", check=True, dry_run=True, stdout=out)
    except SystemExit:  # --check exits 1 when a migration is missing
        pytest.fail(f"the models changed without a migration: {out.getvalue()}")

