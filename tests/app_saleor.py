"""A stand-in for a Saleor instance as App mode sees it, over real HTTP on 127.0.0.1: its JWKS at
/.well-known/jwks.json, its GraphQL API at /graphql/ (only `{ app { id } }`, for the app's own token), and
deliveries signed the way Saleor signs them (saleor/core/jwt_manager.py `jws_encode`: PyJWT's api_jws.encode of
the body with RS256, headers kid + crit [b64], the payload detached)."""
from __future__ import annotations

import base64
import hashlib
import json
import threading
from datetime import datetime, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from cryptography.hazmat.primitives.asymmetric import rsa
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


class FakeSaleor:
    def __init__(self, app_id: str, token: str) -> None:
        self.app_id = app_id
        self.token = token
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
                self.rfile.read(length)
                if self.path != "/graphql/":
                    self._send(404, {})
                elif self.headers.get("Authorization") == f"Bearer {saleor.token}":
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
