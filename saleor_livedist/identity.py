"""Identities and personal data: how users, guests and visitors are named in events, and how a person is
shown to a distributor or the public (masked, always)."""
from __future__ import annotations

import re
from typing import Any

USER_PREFIX = "user:"
GUEST_PREFIX = "guest:"


def of_user(user: Any) -> str:
    return f"{USER_PREFIX}{user.pk}"


def of_guest(email: str) -> str:
    return f"{GUEST_PREFIX}{email.strip().lower()}"


def user_pk(identity: str) -> str | None:
    return identity[len(USER_PREFIX):] if identity.startswith(USER_PREFIX) else None


def mask_email(email: str) -> str:
    """j***@example.com: the first character of the local part, then ***."""
    local, _, domain = email.partition("@")
    if not domain:
        return mask_text(email)
    return f"{local[:1]}***@{domain}"


def mask_phone(phone: str) -> str:
    """138****1234: the first three and last four digits."""
    digits = re.sub(r"\D", "", phone)
    if len(digits) < 8:
        return "*" * len(digits)
    return f"{digits[:3]}{'*' * (len(digits) - 7)}{digits[-4:]}"


def mask_text(text: str) -> str:
    return f"{text[:1]}***" if text else "***"


def mask(value: str) -> str:
    """Mask whatever personal value it is: an e-mail, a phone number or a name."""
    if "@" in value:
        return mask_email(value)
    if re.fullmatch(r"\+?[\d\s-]{8,}", value):
        return mask_phone(value)
    return mask_text(value)


def display_name(identity: str) -> str:
    """What a distributor or the public may see of a person: masked e-mail or name, never the raw id."""
    if identity.startswith(GUEST_PREFIX):
        return mask_email(identity[len(GUEST_PREFIX):])
    pk = user_pk(identity)
    if pk is not None:
        from django.contrib.auth import get_user_model

        user = get_user_model().objects.filter(pk=pk).first()
        if user is not None:
            email = getattr(user, "email", "") or ""
            if email:
                return mask_email(email)
            name = user.get_username() if hasattr(user, "get_username") else ""
            return mask(name) if name else "***"
    return "visitor"


def display_names(identities: list[str]) -> dict[str, str]:
    """display_name for many identities, with one query for the accounts among them."""
    from django.contrib.auth import get_user_model

    pks = [pk for i in identities if (pk := user_pk(i)) is not None]
    users = {str(u.pk): u for u in get_user_model().objects.filter(pk__in=pks)} if pks else {}
    names = {}
    for identity in identities:
        pk = user_pk(identity)
        if pk is None:
            names[identity] = display_name(identity)
            continue
        user = users.get(pk)
        email = getattr(user, "email", "") if user is not None else ""
        if email:
            names[identity] = mask_email(email)
        elif user is not None:
            name = user.get_username() if hasattr(user, "get_username") else ""
            names[identity] = mask(name) if name else "***"
        else:
            names[identity] = "visitor"
    return names


def staff_label(identity: str) -> str:
    """How staff see a person in the admin: the account's name with the e-mail masked (staff search by the full
    e-mail; a screen shared on a live shows no address), a guest's masked e-mail, else the id itself."""
    return staff_labels([identity])[identity]


def staff_labels(identities: list[str]) -> dict[str, str]:
    """staff_label for many identities, with one query for the accounts among them."""
    from django.contrib.auth import get_user_model

    pks = {pk for i in identities if (pk := user_pk(i)) is not None}
    users = {str(u.pk): u for u in get_user_model().objects.filter(pk__in=pks)} if pks else {}
    return {identity: _staff_label(identity, users.get(user_pk(identity) or "")) for identity in identities}


def _staff_label(identity: str, user: Any) -> str:
    if user_pk(identity) is None:
        return display_name(identity) if identity.startswith(GUEST_PREFIX) else identity
    if user is None:
        return identity
    name = (user.get_full_name() if hasattr(user, "get_full_name") else "").strip() or user.get_username()
    email = getattr(user, "email", "") or ""
    return f"{name} ({mask_email(email)})" if email and email != name else name


def identities_matching(term: str, limit: int = 1000) -> list[str]:
    """The identities of accounts whose name, username or e-mail contains `term`, and the guest with that e-mail."""
    from django.contrib.auth import get_user_model
    from django.db.models import Q

    term = term.strip()
    if not term:
        return []
    user_model = get_user_model()
    query = Q(**{f"{user_model.USERNAME_FIELD}__icontains": term})
    for field in ("first_name", "last_name", "email"):
        if any(f.name == field for f in user_model._meta.get_fields()):
            query |= Q(**{f"{field}__icontains": term})
    found = [of_user(user) for user in user_model.objects.filter(query).only("pk")[:limit]]
    return found + ([of_guest(term)] if "@" in term else [])
