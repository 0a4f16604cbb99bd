"""Installing the console as a Saleor App into the Saleor the plugin runs in, with Saleor's own installer (the
one its `manage.py install_app` and the Dashboard's "install from manifest" use): Saleor fetches the manifest
from the plugin's endpoint over HTTP, creates the App and its extensions, and POSTs the App's token to
app/register. Idempotent: an installed App is left as it is."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..console.manifest import APP_ID
from ..exceptions import LiveDistError

MANIFEST_PATH = "/plugins/global/saleor_livedist/app/manifest"


class InstallError(LiveDistError, RuntimeError):
    """Why the app could not be installed, in words an operator can act on."""


@dataclass(frozen=True)
class Installed:
    app_id: int
    name: str
    created: bool  # False: it was installed already


def default_manifest_url() -> str:
    """The manifest's URL at Saleor's public address (PUBLIC_URL, else the Site's domain)."""
    from saleor.core.utils import build_absolute_uri

    return build_absolute_uri(MANIFEST_PATH)


def install(manifest_url: str | None = None, activate: bool = True) -> Installed:
    from saleor.app.models import App

    from .plugin import LiveDistPlugin

    existing = App.objects.filter(identifier=APP_ID, removed_at__isnull=True).first()
    if existing is not None:
        return Installed(existing.pk, existing.name, created=False)
    _require_active_plugin(LiveDistPlugin.PLUGIN_ID)
    url = manifest_url or default_manifest_url()
    app = _install_from(url, activate)
    return Installed(app.pk, app.name, created=True)


def _require_active_plugin(plugin_id: str) -> None:
    from saleor.plugins.models import PluginConfiguration

    if not PluginConfiguration.objects.filter(identifier=plugin_id, active=True, channel__isnull=True).exists():
        raise InstallError("the Live + distribution plugin is not active, so it serves no manifest: activate it "
                           "first (Dashboard: Extensions, Plugins, Live + distribution)")


def _install_from(url: str, activate: bool) -> Any:
    import requests
    from django.core.exceptions import ValidationError
    from saleor.app.installation_utils import fetch_manifest, install_app
    from saleor.app.management.commands.utils import clean_permissions
    from saleor.app.models import AppInstallation
    from saleor.app.validators import AppURLValidator
    from saleor.core import JobStatus

    try:
        AppURLValidator()(url)
    except ValidationError:
        raise InstallError(f"not a URL Saleor accepts for a manifest: {url}") from None
    try:
        manifest = fetch_manifest(url, max_retries=2)
    except requests.RequestException as exc:
        raise InstallError(_fetch_problem(url, exc)) from None
    job = AppInstallation.objects.create(app_name=manifest["name"], manifest_url=url)
    job.permissions.set(clean_permissions(manifest.get("permissions", [])))
    try:
        app, _token = install_app(job, activate)
    except ValidationError as exc:
        _failed(job, JobStatus)
        raise InstallError("Saleor refused the manifest: " + "; ".join(exc.messages)) from None
    except requests.RequestException as exc:
        _failed(job, JobStatus)
        raise InstallError(f"Saleor could not hand the app its token at the manifest's tokenTargetUrl: {exc}") \
            from None
    app.is_installed = True
    app.save(update_fields=["is_installed"])
    job.delete()
    return app


def _failed(job: Any, job_status: Any) -> None:
    job.status = job_status.FAILED
    job.save(update_fields=["status"])


def _fetch_problem(url: str, exc: Exception) -> str:
    import requests

    if isinstance(exc, requests.HTTPError) and exc.response is not None:
        return (f"{url} answered {exc.response.status_code}: is this the address Saleor serves the plugin at "
                "(give it with --manifest-url), and is the plugin active?")
    hint = ("Saleor fetches the manifest over HTTP, as the Dashboard's 'install from manifest' does: the server "
            "must be running and reachable at that address. Saleor refuses private and loopback addresses "
            "unless HTTP_IP_FILTER_ALLOW_LOOPBACK_IPS=True (or HTTP_IP_FILTER_ENABLED=False) is set in its "
            "environment.")
    return f"Saleor could not fetch the manifest from {url} ({exc}). {hint}"
