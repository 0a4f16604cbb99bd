"""manage.py livedist_install_app: mount the console in Saleor's Dashboard (installs the Saleor App from the
plugin's manifest with Saleor's own installer). Idempotent."""
from __future__ import annotations

import importlib.util
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser


class Command(BaseCommand):
    help = ("Install the Live + distribution console into this Saleor's Dashboard, from the manifest the plugin "
            "serves (running it again changes nothing).")

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--manifest-url", help="where Saleor fetches the manifest (default: "
                            "<Saleor's public URL>/plugins/global/saleor_livedist/app/manifest)")
        parser.add_argument("--inactive", action="store_true", help="install the app without activating it")

    def handle(self, *args: Any, **options: Any) -> None:
        if importlib.util.find_spec("saleor") is None:
            raise CommandError("this command installs the app into Saleor: run it with Saleor's manage.py")
        from ...saleor.app_install import InstallError, install

        try:
            installed = install(options["manifest_url"], activate=not options["inactive"])
        except InstallError as exc:
            raise CommandError(str(exc)) from None
        if installed.created:
            self.stdout.write(f"installed the app {installed.name!r} (App {installed.app_id}); it is in the "
                              "Dashboard's navigation under Orders")
        else:
            self.stdout.write(f"the app {installed.name!r} is installed already (App {installed.app_id}): nothing "
                              "to do")
