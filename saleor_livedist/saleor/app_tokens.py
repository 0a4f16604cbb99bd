"""The console's App side in plugin mode: the Dashboard's tokens checked against the JWKS of the Saleor the
plugin runs in, read in process from its JWT manager (the keys it publishes at /.well-known/jwks.json)."""
from __future__ import annotations

from typing import Any

from ..console.app import AppHost
from ..console.manifest import APP_ID
from ..console.tokens import Profile


class SaleorIssuer:
    """The `TokenIssuer` port on Saleor's own JWT manager and database."""

    def issuer(self) -> str:
        from saleor.core.jwt_manager import get_jwt_manager

        return get_jwt_manager().get_issuer()

    def app_id(self) -> str | None:
        import graphene

        app = installed_app()
        return graphene.Node.to_global_id("App", app.pk) if app is not None else None

    def signing_key(self, kid: str | None) -> Any:
        import jwt
        from saleor.core.jwt_manager import get_jwt_manager

        for jwk in get_jwt_manager().get_jwks().get("keys", []):
            if jwk.get("kid") == kid and jwk.get("alg") == "RS256":
                return jwt.PyJWK(jwk, algorithm="RS256").key
        return None

    def profile(self, user_id: str) -> Profile | None:
        from saleor.account.models import User
        from saleor.graphql.core.utils import from_global_id_or_none

        pk = from_global_id_or_none(user_id, "User")
        user = User.objects.filter(pk=pk, is_active=True).first() if pk else None
        if user is None:
            return None
        name = " ".join(part for part in (user.first_name, user.last_name) if part).strip()
        return Profile(name=name or user.email, language=user.language_code or "")


def installed_app() -> Any:
    """Saleor's App row of the console (active, not removed), or None."""
    from saleor.app.models import App

    return App.objects.filter(identifier=APP_ID, is_active=True, removed_at__isnull=True).first()


def is_app_token(token: str) -> bool:
    """Whether Saleor issued this token to the console's app (Saleor keeps only its hash and last 4 chars)."""
    from django.contrib.auth.hashers import check_password
    from saleor.app.models import AppToken

    candidates = AppToken.objects.filter(app__identifier=APP_ID, app__removed_at__isnull=True,
                                         token_last_4=token[-4:])
    return any(check_password(token, candidate.auth_token) for candidate in candidates)


def product_slug(pk: str) -> str | None:
    from saleor.product.models import Product

    return Product.objects.filter(pk=pk).values_list("slug", flat=True).first() if pk.isdigit() else None


def app_host() -> AppHost:
    return AppHost(issuer=SaleorIssuer(), is_app_token=is_app_token, product_slug=product_slug)
