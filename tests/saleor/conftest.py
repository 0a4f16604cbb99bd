"""Contract tests against a real Saleor, with Saleor's own fixtures. Run them from a Saleor checkout with its
virtualenv's `python -m pytest` and Saleor's test settings (docs/saleor.md); the fixtures come from the
checkout Saleor is imported from. Anywhere else, for instance in this project's own test run, every test
here is skipped."""
from __future__ import annotations

import importlib.util
import os
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

HERE = Path(__file__).resolve().parent
PLUGIN_PATH = "saleor_livedist.saleor.plugin.LiveDistPlugin"
SUPPORTED = "3.20-3.23"
SKIP_REASON = (
    f"Saleor is not importable: run these contract tests from Saleor's virtualenv against a Saleor {SUPPORTED} "
    "checkout (docs/saleor.md)"
)
SALEOR_IMPORTABLE = importlib.util.find_spec("saleor") is not None


def _imported_checkout() -> Path | None:
    """The directory holding the `saleor` package this interpreter imports (a Saleor checkout's root)."""
    spec = importlib.util.find_spec("saleor")
    return Path(spec.origin).resolve().parent.parent if spec and spec.origin else None


def _setup_problem() -> str | None:
    """Why Saleor's fixtures cannot be loaded, or None. The fixtures live in the checkout, not in the package,
    so they are taken from the checkout Saleor is imported from (SALEOR_DIR, if set, must be that one)."""
    from django.conf import settings
    from django.core.exceptions import ImproperlyConfigured

    try:
        saleor_settings = "saleor.plugins" in settings.INSTALLED_APPS
    except ImproperlyConfigured:
        saleor_settings = False
    if not saleor_settings:
        return "they need Saleor's test settings: add --ds=saleor.tests.settings"
    root = _imported_checkout()
    value = os.environ.get("SALEOR_DIR")
    if value and Path(value).resolve() != root:
        return (f"SALEOR_DIR={value} is not the Saleor this interpreter imports ({root}); the fixtures and the "
                "code must come from the same checkout")
    if root is None or not (root / "conftest.py").is_file():
        return (f"Saleor is imported from {root}, which is not a Saleor checkout (no conftest.py there): run "
                "pytest from the checkout's directory with `python -m pytest` (docs/saleor.md)")
    return None


def _load_root_conftest(root: Path) -> ModuleType:
    """Saleor's root conftest, loaded by path: pytest only loads it for tests inside the checkout."""
    spec = importlib.util.spec_from_file_location("saleor_root_conftest", root / "conftest.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)  # also points the test cases at Saleor's writer and replica databases
    return module


def _is_fixture(value: Any) -> bool:
    return hasattr(value, "_fixture_function_marker") or hasattr(value, "_pytestfixturefunction")


_root_conftest: ModuleType | None = None
if SALEOR_IMPORTABLE:
    _problem = _setup_problem()
    if _problem is not None:  # raised while pytest loads this file, so it prints just this message
        raise pytest.UsageError(f"saleor-livedist contract tests: {_problem}")
    _root_conftest = _load_root_conftest(_imported_checkout())  # type: ignore[arg-type]
    globals().update({k: v for k, v in vars(_root_conftest).items() if _is_fixture(v)})


def pytest_configure(config: pytest.Config) -> None:
    if _root_conftest is None:
        return
    # Registered as plugins rather than through `pytest_plugins`, which pytest refuses in a conftest below
    # the rootdir once collection has started (e.g. `pytest tests`). Saleor's settings import some of them
    # first, so pytest cannot rewrite their asserts; that is harmless and only Saleor's own tests would care.
    config.addinivalue_line("filterwarnings", "ignore:Module already imported:pytest.PytestAssertRewriteWarning")
    for name in getattr(_root_conftest, "pytest_plugins", []):
        config.pluginmanager.import_plugin(name)


def pytest_report_header(config: pytest.Config) -> str:
    if not SALEOR_IMPORTABLE:
        return f"saleor: not importable, tests/saleor skipped ({SUPPORTED} contract tests)"
    import saleor

    return f"saleor: {saleor.__version__} from {Path(saleor.__file__).parent.parent}"


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if SALEOR_IMPORTABLE:
        return
    skip = pytest.mark.skip(reason=SKIP_REASON)
    for item in items:
        if HERE in Path(item.path).resolve().parents:
            item.add_marker(skip)


# ---------------------------------------------------------------------- our fixtures (Saleor imports inside)


@pytest.fixture
def livedist(settings: Any, db: None) -> Iterator[Any]:
    """The plugin enabled and active, next to the dummy gateways Saleor's autouse fixture sets up.

    A global plugin without a PluginConfiguration row gets DEFAULT_ACTIVE (False), as on a fresh store: the
    merchant switches it on in the dashboard, which stores the row created here."""
    from saleor.plugins.models import PluginConfiguration

    from saleor_livedist import conf
    from saleor_livedist.inbox import processing
    from saleor_livedist.saleor.plugin import LiveDistPlugin

    settings.PLUGINS = [*settings.PLUGINS, PLUGIN_PATH]
    PluginConfiguration.objects.create(identifier=LiveDistPlugin.PLUGIN_ID, name=LiveDistPlugin.PLUGIN_NAME,
                                       active=True, configuration=[])
    processing.reset_rules_source()
    yield LiveDistPlugin
    conf.set_overrides({})
    processing.reset_rules_source()


@pytest.fixture
def distributor(db: None) -> str:
    """A Saleor customer who became a distributor (identity user:<pk>)."""
    from saleor.account.models import User

    from saleor_livedist.identity import of_user
    from saleor_livedist.distribution.services import become_distributor

    user = User.objects.create(email="distributor@example.com", is_active=True)
    return become_distributor(of_user(user), consent=True).id


@pytest.fixture
def share_token(distributor: str, product: Any) -> str:
    """The distributor's share link for Saleor's `product` fixture, as a storefront receives it."""
    from saleor_livedist.distribution.services import create_share_link

    return create_share_link(distributor, "product", product.slug).token


@pytest.fixture
def live_saleor(live_server: Any, settings: Any, monkeypatch: pytest.MonkeyPatch) -> Any:
    """Saleor over real HTTP (pytest-django's live server), as an app outside it reaches it: its API URL
    (PUBLIC_URL, which Saleor names in Saleor-Api-Url) is the live server's."""
    from django.db import connections

    settings.PUBLIC_URL = live_server.url
    settings.ALLOWED_HOSTS = ["*"]
    # Saleor's test setup points the replica at the test database on the test's own thread only; the live server
    # answers on threads of its own, which would read the replica's configured (non-test) database.
    monkeypatch.setitem(connections.settings["replica"], "NAME", connections["default"].settings_dict["NAME"])
    return live_server
