"""Where a withdrawal is paid: the declared payout methods, the account details each needs, how they are kept
(encrypted with Fernet, keys from PAYOUT_KEY) and how they are shown (masked, always)."""
from __future__ import annotations

import base64
import hashlib
import json
import logging
import re
from dataclasses import asdict, dataclass

from django.conf import settings
from django.utils.translation import gettext as _, gettext_lazy

from ..conf import get_setting
from ..exceptions import ServiceError
from ..identity import mask_email, mask_text

logger = logging.getLogger(__name__)

# method -> its name for people; every method needs the holder's name and a number (a card or account number,
# an Alipay or WeChat account, a PayPal e-mail); a bank transfer also needs the bank.
METHOD_NAMES = {"bank": gettext_lazy("bank transfer"), "alipay": gettext_lazy("Alipay"),
                "wechat": gettext_lazy("WeChat Pay"), "paypal": gettext_lazy("PayPal")}
EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")
CARD = re.compile(r"[0-9][0-9 -]{6,40}[0-9]")
DERIVED_KEY_SALT = b"saleor_livedist.payouts.account-key"


@dataclass(frozen=True)
class Account:
    name: str  # the account holder
    number: str  # card / account number, Alipay or WeChat account, PayPal e-mail
    bank: str = ""

    def masked(self) -> str:
        """What staff and the distributor see: the holder's first character and the number's last four."""
        number = self.number
        shown = mask_email(number) if "@" in number else (
            "•••• " + re.sub(r"\D", "", number)[-4:] if CARD.fullmatch(number) else mask_text(number))
        return " ".join(p for p in (self.bank, shown, mask_text(self.name)) if p)


def methods() -> list[str]:
    return list(get_setting("PAYOUT_METHODS"))


def check_account(method: str, details: dict[str, str] | Account) -> Account:
    """The account details for `method`, cleaned; ServiceError naming the field at fault."""
    if method not in methods():
        raise ServiceError("method", "INVALID_METHOD", _("choose a payout method among %(methods)s") % {
            "methods": ", ".join(str(METHOD_NAMES[m]) for m in methods())})
    if isinstance(details, Account):
        details = asdict(details)
    unknown = sorted(set(details) - {"name", "number", "bank"})
    if unknown:
        raise ServiceError("account", "INVALID", _("account details are name, number and bank, not %(keys)s") % {
            "keys": ", ".join(unknown)})
    account = Account(*(str(details.get(k) or "").strip() for k in ("name", "number", "bank")))
    if not 1 <= len(account.name) <= 100:
        raise ServiceError("account", "NAME_REQUIRED", _("give the account holder's name (1 to 100 characters)"))
    if method == "paypal" and not EMAIL.fullmatch(account.number):
        raise ServiceError("account", "INVALID_NUMBER", _("a PayPal account is its e-mail address"))
    if method == "bank" and not CARD.fullmatch(account.number):
        raise ServiceError("account", "INVALID_NUMBER", _("a bank account number has 8 to 42 digits"))
    if not 3 <= len(account.number) <= 100:
        raise ServiceError("account", "INVALID_NUMBER", _("give the account (3 to 100 characters)"))
    if method == "bank" and not 1 <= len(account.bank) <= 100:
        raise ServiceError("account", "BANK_REQUIRED", _("name the bank for a bank transfer"))
    if method != "bank" and account.bank:
        raise ServiceError("account", "INVALID", _("only a bank transfer names a bank"))
    return account


def _keys() -> list[bytes]:
    configured = [k.strip() for k in str(get_setting("PAYOUT_KEY")).split(",") if k.strip()]
    if configured:
        return [k.encode() for k in configured]
    # No key of its own: one derived from SECRET_KEY (checks.py warns, W010). Rotating SECRET_KEY then makes the
    # stored accounts unreadable; set PAYOUT_KEY to avoid that.
    digest = hashlib.pbkdf2_hmac("sha256", str(settings.SECRET_KEY).encode(), DERIVED_KEY_SALT, 100_000)
    return [base64.urlsafe_b64encode(digest)]


_fernets: dict[tuple[bytes, ...], object] = {}


def _fernet():  # type: ignore[no-untyped-def]
    from cryptography.fernet import Fernet, MultiFernet

    keys = tuple(_keys())
    if keys not in _fernets:
        try:
            _fernets[keys] = MultiFernet([Fernet(k) for k in keys])
        except ValueError:
            from ..conf import ImproperlyConfigured

            raise ImproperlyConfigured("LIVEDIST PAYOUT_KEY must be Fernet keys (32 url-safe base64-encoded bytes, "
                                       "e.g. from cryptography.fernet.Fernet.generate_key()), comma-separated") from None
    return _fernets[keys]


def encryptor():  # type: ignore[no-untyped-def]
    """The Fernet (MultiFernet) of the PAYOUT_KEY keys, for other secrets kept at rest the same way (App mode's
    tokens)."""
    return _fernet()


def seal(account: Account) -> str:
    return _fernet().encrypt(json.dumps(asdict(account), sort_keys=True).encode()).decode()


def unseal(token: str) -> Account:
    """The account details back from their encrypted form (for the payout batch alone)."""
    return Account(**json.loads(_fernet().decrypt(token.encode())))
