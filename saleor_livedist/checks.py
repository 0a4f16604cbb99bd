"""Django system checks with stable ids (saleor_livedist.E001 ...)."""
from __future__ import annotations

from typing import Any

from django.core.checks import CheckMessage, Error, Warning, register

from .conf import ImproperlyConfigured, get_setting


@register()
def check_rules(app_configs: Any = None, **kwargs: Any) -> list[Error]:
    from pathlib import Path

    from .conf import ImproperlyConfigured, get_setting
    from .exceptions import RuleFileError
    from .live_room.reminders import notifier as reminder_notifier
    from .rules.backends import durable_available
    from .rules.loader import default_rules_dir, load_rules

    errors: list[Error] = []
    try:
        directory = get_setting("RULES_DIR")
        engine = get_setting("ENGINE")
    except ImproperlyConfigured as exc:
        return [Error(str(exc), hint="Fix settings.LIVEDIST.", id="saleor_livedist.E000")]
    path = Path(directory) if directory else default_rules_dir()
    if not path.is_dir():
        errors.append(Error(
            f"the rules directory {path} does not exist",
            hint="Create it, or set LIVEDIST['RULES_DIR'] to the directory holding your rule files.",
            id="saleor_livedist.E001",
        ))
    else:
        try:
            load_rules(path)
        except RuleFileError as exc:
            errors.append(Error(
                f"the rule files in {path} are invalid ({len(exc.problems)} problem(s)):\n{exc}",
                hint=f"Run `livedist rules check {path}` and fix each problem.",
                id="saleor_livedist.E002",
            ))
    for path_name in get_setting("REMINDER_NOTIFIERS"):
        try:
            notifier = reminder_notifier(path_name)
        except ImportError as exc:
            notifier, problem = None, str(exc)
        else:
            problem = "it is not callable"
        if not callable(notifier):
            errors.append(Error(
                f"LIVEDIST['REMINDER_NOTIFIERS'] names {path_name!r}, which cannot be used: {problem}",
                hint="List dotted paths of callables (live, person, email) -> bool, e.g. "
                     "'saleor_livedist.live_room.reminders.by_email'.",
                id="saleor_livedist.E004",
            ))
    if engine == "durable" and not durable_available():
        errors.append(Error(
            "LIVEDIST['ENGINE'] is 'durable' but durable-rules cannot be imported",
            hint="Install durable-rules==2.0.28 (needs a C compiler; Python 3.11 or 3.12), or set ENGINE to 'python'.",
            id="saleor_livedist.E003",
        ))
    return errors


@register()
def check_payouts(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    """Payout settings: the minimum, the methods, the key account details are encrypted with."""
    problems: list[CheckMessage] = []
    try:
        get_setting("WITHDRAWAL_MINIMUM")
        get_setting("PAYOUT_METHODS")
        from .payouts.accounts import _fernet

        _fernet()
    except ImproperlyConfigured as exc:
        return [Error(str(exc), hint="Fix settings.LIVEDIST.", id="saleor_livedist.E005")]
    if not str(get_setting("PAYOUT_KEY")).strip():
        problems.append(Warning(
            "LIVEDIST['PAYOUT_KEY'] is not set: distributors' payout accounts are encrypted with a key derived from "
            "SECRET_KEY, and become unreadable if SECRET_KEY changes",
            hint="Set PAYOUT_KEY to a key from `python -c \"from cryptography.fernet import Fernet; "
                 "print(Fernet.generate_key().decode())\"` (docs/payouts.md, \"Keys\").",
            id="saleor_livedist.W005",
        ))
    if get_setting("PAYOUT_WEBHOOK_URL") and not get_setting("PAYOUT_WEBHOOK_SECRET"):
        problems.append(Error(
            "LIVEDIST['PAYOUT_WEBHOOK_URL'] is set but PAYOUT_WEBHOOK_SECRET is not: the gateway could not verify "
            "the batches, nor could we verify its callbacks",
            hint="Set PAYOUT_WEBHOOK_SECRET to a long random string shared with the gateway.", id="saleor_livedist.E006",
        ))
    return problems
