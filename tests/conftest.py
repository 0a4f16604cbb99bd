import pytest

from saleor_livedist.rules.backends import durable_available

BACKENDS = ["python", "durable"]


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    if request.param == "durable" and not durable_available():
        pytest.skip("durable-rules does not import on this Python (it fails on 3.13); the python backend is tested")
    return request.param
