"""A stand-in for a Saleor instance as App mode sees it, over real HTTP on 127.0.0.1: its JWKS at
/.well-known/jwks.json, its GraphQL API at /graphql/ (for the app's own token: `{ app { id } }`, and the
console's `user(id:)` and `product(id:)`), deliveries signed the way Saleor signs them
(saleor/core/jwt_manager.py `jws_encode`: PyJWT's api_jws.encode of the body with RS256, headers kid + crit
[b64], the payload detached), and the Dashboard's tokens for the app's pages (saleor/core/jwt.py
`create_access_token_for_app_extension`: RS256 with its key id, type "thirdparty", owner "saleor")."""
from __future__ import annotations

import base64
import hashlib
import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from cryptography.hazmat.primitives.asymmetric import rsa
import jwt
from jwt import api_jws
from jwt.algorithms import RSAAlgorithm


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


class SigningKey:
    def __init__(self) -> None:
        self.private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        jwk = json.loads(RSAAlgorithm.to_jwk(self.private.public_key()))
        # RFC 7638 thumbprint, as Saleor's get_key_id (authlib's JsonWebKey.thumbprint)
        canonical = json.dumps({"e": jwk["e"], "kty": "RSA", "n": jwk["n"]}, separators=(",", ":"), sort_keys=True)
        self.kid = b64url(hashlib.sha256(canonical.encode()).digest())
        self.jwk = {**jwk, "use": "sig", "kid": self.kid, "alg": "RS256"}

    def sign(self, body: bytes, kid: str | None = None) -> str:
        return api_jws.encode(body, key=self.private, algorithm="RS256",
                              headers={"kid": kid or self.kid, "crit": ["b64"]}, is_payload_detached=True)


class InstanceStandIn:
    def __init__(self, app_id: str, token: str) -> None:
        self.app_id = app_id
        self.token = token
        self.users: dict[str, dict[str, Any]] = {}  # global id -> what `user(id:)` answers the app
        self.products: dict[str, str] = {}  # global id -> slug
        self.channels: dict[str, str] = {}  # slug -> currency
        self.mutations: list[tuple[str, dict[str, Any]]] = []  # (the mutation's field, its variables)
        self.key = SigningKey()
        self.published = [self.key]
        self.jwks_fetches = 0
        saleor = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def _send(self, status: int, document: Any) -> None:
                body = json.dumps(document).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def do_GET(self) -> None:
                if self.path == "/.well-known/jwks.json":
                    saleor.jwks_fetches += 1
                    self._send(200, {"keys": [k.jwk for k in saleor.published]})
                else:
                    self._send(404, {})

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                request = json.loads(self.rfile.read(length) or b"{}")
                query, variables = request.get("query", ""), request.get("variables") or {}
                if self.path != "/graphql/":
                    self._send(404, {})
                elif self.headers.get("Authorization") == f"Bearer {saleor.token}":
                    if "user(id:" in query:
                        self._send(200, {"data": {"user": saleor.users.get(variables.get("id"))}})
                    elif "product(id:" in query:
                        slug = saleor.products.get(variables.get("id"))
                        self._send(200, {"data": {"product": {"slug": slug} if slug else None}})
                    elif "product(slug:" in query:
                        found = variables.get("slug") in saleor.products.values()
                        self._send(200, {"data": {"product": {"id": "found"} if found else None}})
                    elif "products(first:" in query:
                        edges = [{"node": {"slug": slug}} for slug in sorted(saleor.products.values())]
                        self._send(200, {"data": {"products": {"edges": edges, "pageInfo": {
                            "hasNextPage": False, "endCursor": None}}}})
                    elif "channel(slug:" in query:
                        slug = variables.get("slug")
                        currency = saleor.channels.get(slug)
                        self._send(200, {"data": {"channel": {"id": gid("Channel", slug), "slug": slug,
                                                              "currencyCode": currency} if currency else None}})
                    elif query.lstrip().startswith("mutation"):
                        self._send(200, {"data": saleor.mutate(query, variables)})
                    else:
                        self._send(200, {"data": {"app": {"id": saleor.app_id}}})
                else:
                    self._send(400, {"data": {"app": None}, "errors": [{"message": "Invalid token."}]})

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.api_url = f"http://127.0.0.1:{self.server.server_address[1]}/graphql/"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def rotate(self) -> SigningKey:
        self.key = SigningKey()
        self.published = [self.key]
        return self.key

    def mutate(self, query: str, variables: dict[str, Any]) -> dict[str, Any]:
        """The voucher mutations App mode's store port sends (store_api.py), recorded and answered as made."""
        for field in ("voucherCreate", "voucherUpdate", "voucherChannelListingUpdate", "updateMetadata",
                      "updatePrivateMetadata"):
            if field + "(" in query:
                self.mutations.append((field, variables))
                if field.startswith("voucher"):
                    return {field: {"voucher": {"id": gid("Voucher", len(self.mutations)),
                                                "codes": {"edges": []}}, "errors": []}}
                return {field: {"item": {"metadata": []}, "errors": []}}
        return {}

    def dashboard_token(self, user_pk: object = 7, email: str = "staff@example.com",
                        permissions: tuple[str, ...] = ("MANAGE_ORDERS",), key: SigningKey | None = None,
                        **changes: Any) -> str:
        """The token the Dashboard gives the app's page for a staff member (claims as Saleor 3.23 sets them)."""
        now = int(time.time())
        claims = {"iat": now, "exp": now + 300, "owner": "saleor", "iss": self.api_url, "token": "jwt-key",
                  "type": "thirdparty", "email": email, "user_id": gid("User", user_pk), "is_staff": True,
                  "app": self.app_id, "permissions": list(permissions), "user_permissions": list(permissions),
                  "app_extension": gid("AppExtension", 1), **changes}
        key = key or self.key
        return jwt.encode({k: v for k, v in claims.items() if v is not None}, key.private, algorithm="RS256",
                          headers={"kid": key.kid})

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def headers(self, body: bytes, event: str = "order_created", signature: str | None = "sign") -> dict[str, str]:
        """Saleor's headers for a delivery (send_webhook_using_http), as Django test-client keywords."""
        out = {"HTTP_SALEOR_API_URL": self.api_url, "HTTP_SALEOR_EVENT": event,
               "HTTP_SALEOR_DOMAIN": self.api_url.split("/")[2]}
        if signature == "sign":
            signature = self.key.sign(body)
        if signature is not None:
            out["HTTP_SALEOR_SIGNATURE"] = signature
        return out


def gid(kind: str, pk: object) -> str:
    return base64.b64encode(f"{kind}:{pk}".encode()).decode()


def now_iso() -> str:
    return datetime.now(timezone.utc).isoformat()


Pair = tuple[InstanceStandIn, InstanceStandIn]


@contextmanager
def two_instances(app_pks: tuple[int, int], django_db_blocker: Any) -> Iterator[Pair]:
    """Two instances with the app installed as App `app_pks`, their schemas migrated (outside the tests'
    transactions: a migration builds an index concurrently) and dropped at the end."""
    import secrets

    from django.db import connection

    from saleor_livedist.app_server import tenants

    pair = (InstanceStandIn(gid("App", app_pks[0]), "token-a-" + secrets.token_hex(8)),
            InstanceStandIn(gid("App", app_pks[1]), "token-b-" + secrets.token_hex(8)))
    with django_db_blocker.unblock():
        for saleor in pair:
            tenants.provision(tenants.schema_for(saleor.api_url))
    try:
        yield pair
    finally:
        with django_db_blocker.unblock(), connection.cursor() as cursor:
            for saleor in pair:
                cursor.execute(f'DROP SCHEMA IF EXISTS "{tenants.schema_for(saleor.api_url)}" CASCADE')
        for saleor in pair:
            saleor.close()
