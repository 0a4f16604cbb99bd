from collections.abc import Iterator

import pytest

from saleor_livedist.rules.backends import durable_available

BACKENDS = ["python", "durable"]


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    if request.param == "durable" and not durable_available():
        pytest.skip("durable-rules does not import on this Python (it fails on 3.13); the python backend is tested")
    return request.param


@pytest.fixture(autouse=True)
def _language_reset() -> Iterator[None]:
    """A request through the sandbox's LocaleMiddleware leaves its language active on the thread that served it
    (the test's own, with Django's test client): each test starts and ends in the default language."""
    from django.utils import translation

    translation.deactivate()
    yield
    translation.deactivate()
