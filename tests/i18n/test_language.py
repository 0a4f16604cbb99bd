"""The language a request is answered in: `?lang=`, then Django's choice from the request (cookie,
Accept-Language, LANGUAGE_CODE), narrowed to English and zh-Hans; in the sandbox and with Saleor's LANGUAGES."""
from __future__ import annotations

import pytest
from django.test import RequestFactory, override_settings

from saleor_livedist.i18n import environ_language, package_language, request_language

# Part of Saleor 3.23's settings.LANGUAGES (saleor/core/languages.py): many languages, zh-hans among them.
SALEOR_LANGUAGES = [("en", "English"), ("fr", "French"), ("zh", "Chinese"), ("zh-hans", "Chinese (Simplified)"),
                    ("zh-hans-cn", "Chinese (Simplified, China)"), ("zh-hant", "Chinese (Traditional)")]


@pytest.mark.parametrize("code, expected", [
    ("zh-Hans", "zh-hans"), ("zh_Hans", "zh-hans"), ("zh-CN", "zh-hans"), ("zh-sg", "zh-hans"),
    ("zh-hans-cn", "zh-hans"), ("zh", "zh-hans"), ("en", "en"), ("en-GB", "en"),
    ("zh-hant", None), ("zh-TW", None), ("fr", None), ("", None), (None, None),
])
def test_package_language(code: str | None, expected: str | None) -> None:
    assert package_language(code) == expected


@pytest.mark.parametrize("header, expected", [
    ("zh-Hans", "zh-hans"), ("zh-CN,zh;q=0.9,en;q=0.8", "zh-hans"), ("en-US,en;q=0.9", "en"),
    ("fr-FR", "en"), ("", "en"), ("de;q=0.9, zh-Hans;q=0.8", "zh-hans"),
])
def test_accept_language_in_the_sandbox(header: str, expected: str) -> None:
    request = RequestFactory().get("/graphql/", HTTP_ACCEPT_LANGUAGE=header)
    assert request_language(request) == expected


@pytest.mark.parametrize("header, expected", [
    ("zh-Hans", "zh-hans"), ("zh-CN", "zh-hans"), ("zh", "zh-hans"), ("fr", "en"), ("zh-TW", "en"), ("", "en"),
])
def test_accept_language_with_saleors_languages(header: str, expected: str) -> None:
    with override_settings(LANGUAGES=SALEOR_LANGUAGES):
        assert request_language(RequestFactory().get("/", HTTP_ACCEPT_LANGUAGE=header)) == expected


def test_lang_parameter_and_cookie_come_before_accept_language() -> None:
    request = RequestFactory().get("/", HTTP_ACCEPT_LANGUAGE="zh-Hans")
    assert request_language(request, "en") == "en"
    assert request_language(request, "klingon") == "zh-hans"  # an unknown ?lang= is ignored
    request.COOKIES["django_language"] = "en"
    assert request_language(request) == "en"


def test_a_merchants_language_code_is_the_default() -> None:
    with override_settings(LANGUAGE_CODE="zh-hans"):
        assert request_language(RequestFactory().get("/")) == "zh-hans"


def test_environ_language_reads_the_same_from_a_bare_environ() -> None:
    assert environ_language({"HTTP_ACCEPT_LANGUAGE": "zh-CN"}) == "zh-hans"
    assert environ_language({"HTTP_ACCEPT_LANGUAGE": "zh-CN", "QUERY_STRING": "lang=en"}) == "en"
    assert environ_language({"HTTP_ACCEPT_LANGUAGE": "zh-CN", "HTTP_COOKIE": "django_language=en"}) == "en"
    assert environ_language({}) == "en"
