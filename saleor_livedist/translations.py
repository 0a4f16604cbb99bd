"""`livedist messages`: refresh the package's message catalogue from the source and compile it, for developers
working in a checkout (docs/translating.md). Needs GNU gettext (xgettext, msgmerge, msgfmt); serving the
translations does not."""
from __future__ import annotations

import os
import shutil
import subprocess
from contextlib import chdir
from typing import TextIO

from .exceptions import LiveDistError
from .i18n import LOCALE_DIR

LOCALES = ["zh_Hans"]  # gettext's spelling of the package's languages other than English, the source
GETTEXT_TOOLS = ("xgettext", "msgmerge", "msgfmt")


def refresh(out: TextIO) -> int:
    """makemessages then compilemessages, run from the package's folder as Django expects, then what is left
    to translate. File names without line numbers (--add-location file), so a change elsewhere in a module does
    not touch the catalogue."""
    missing = [tool for tool in GETTEXT_TOOLS if shutil.which(tool) is None]
    if missing:
        raise LiveDistError(f"{', '.join(missing)} not found: install GNU gettext (Debian/Ubuntu: apt-get install "
                            "gettext; macOS: brew install gettext)")
    import django
    from django.conf import settings
    from django.core.management import call_command

    if not settings.configured and not os.environ.get("DJANGO_SETTINGS_MODULE"):
        settings.configure(USE_I18N=True)
    django.setup()
    from django.core.management.commands.makemessages import Command as MakeMessages

    class WithoutGuesses(MakeMessages):  # a new message is left untranslated, not given a neighbour's translation
        msgmerge_options = [*MakeMessages.msgmerge_options, "--no-fuzzy-matching"]

    with chdir(LOCALE_DIR.parent):
        call_command(WithoutGuesses(), locale=LOCALES, no_obsolete=True, add_location="file", verbosity=0)
        call_command("compilemessages", locale=LOCALES, verbosity=0)
    unfinished = False
    for locale in LOCALES:
        po = LOCALE_DIR / locale / "LC_MESSAGES" / "django.po"
        stats = subprocess.run(["msgfmt", "--statistics", "-o", os.devnull, str(po)], capture_output=True,
                               text=True, check=True).stderr.strip()
        out.write(f"{po}: {stats}\n")
        unfinished = unfinished or "untranslated" in stats or "fuzzy" in stats
    if unfinished:
        out.write("translate what is untranslated or fuzzy in the .po, then run `livedist messages` again\n")
    return 0
