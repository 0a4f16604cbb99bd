"""`livedist app serve` as a process of its own, end to end over real HTTP: a stand-in Saleor installs the app
(the app checks the token with the instance's GraphQL API), delivers a signed order, and the serve command's
worker books it in that instance's schema of the app's own database."""
from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote

import psycopg
import pytest
from django.conf import settings
from django.db import connection

from saleor_livedist.app_server.tenants import schema_for
from tests.app_saleor import InstanceStandIn, gid, now_iso
from tests.integration.test_app_mode import DISTRIBUTOR, order_created, order_paid

DATABASE = "ld_app_serve_e2e"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def server_database(django_db_setup: Any, django_db_blocker: Any) -> Iterator[dict[str, Any]]:
    with django_db_blocker.unblock():
        params = connection.get_connection_params()
    admin = {k: params.get(k) for k in ("host", "port", "user", "password")}
    with psycopg.connect(dbname="postgres", autocommit=True, **admin) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{DATABASE}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{DATABASE}"')
    yield admin
    with psycopg.connect(dbname="postgres", autocommit=True, **admin) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{DATABASE}" WITH (FORCE)')


def post(url: str, body: bytes, headers: dict[str, str]) -> tuple[int, dict[str, Any]]:
    request = urllib.request.Request(url, data=body, method="POST", headers={"Content-Type": "application/json",
                                                                             **headers})
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())


def test_app_serve_installs_receives_and_books(server_database: dict[str, Any]) -> None:
    saleor = InstanceStandIn(gid("App", 5), "token-e2e")
    port = free_port()
    auth = f"{server_database['user']}" + (f":{server_database['password']}" if server_database.get("password") else "")
    host, db_port = server_database["host"] or "127.0.0.1", server_database.get("port")
    if host.startswith("/"):  # the embedded server listens on a socket directory (the README's test command)
        database_url = f"postgres://{auth}@/{DATABASE}?host={quote(host, safe='')}" + (
            f"&port={db_port}" if db_port else "")
    else:
        database_url = f"postgres://{auth}@{host}:{db_port or 5432}/{DATABASE}"
    env = {**os.environ, "DATABASE_URL": database_url,
           "LIVEDIST_APP_ALLOWED_SALEORS": saleor.api_url, "CELERY_BROKER_URL": "",
           "LIVEDIST_APP_SECRET_KEY": settings.SECRET_KEY}  # share links are signed with it
    env.pop("DJANGO_SETTINGS_MODULE", None)
    process = subprocess.Popen([sys.executable, "-m", "saleor_livedist", "app", "serve", "--address",
                                f"127.0.0.1:{port}"], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                               text=True)
    base = f"http://127.0.0.1:{port}/"
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                with urllib.request.urlopen(base + "app/manifest", timeout=5) as response:
                    manifest = json.loads(response.read())
                break
            except OSError:
                assert process.poll() is None and time.monotonic() < deadline, "app serve did not start"
                time.sleep(0.5)
        assert manifest["tokenTargetUrl"] == base + "app/register" and len(manifest["webhooks"]) == 10

        status, _ = post(base + "app/register", json.dumps({"auth_token": saleor.token}).encode(),
                         {"Saleor-Api-Url": saleor.api_url})
        assert status == 200
        # the distributor, as the console would record it; then Saleor's deliveries, signed
        schema = schema_for(saleor.api_url)
        with psycopg.connect(dbname=DATABASE, autocommit=True, **server_database) as conn:
            conn.execute(f'SET search_path TO "{schema}"')
            conn.execute("INSERT INTO livedist_inbox (event_id, type, at, payload, status, attempts, error, received_at) "
                         "VALUES (%s, 'distributor.joined', '2026-12-01T00:00:00+00:00', %s, 'pending', 0, '', now())",
                         [f"join:{DISTRIBUTOR}", json.dumps({"id": f"join:{DISTRIBUTOR}", "type": "distributor.joined",
                                                             "at": "2026-12-01T00:00:00+00:00",
                                                             "customer": DISTRIBUTOR})])
        for body in (order_created(saleor), order_paid(saleor)):
            status, answer = post(base + "app/webhooks", body, {"Saleor-Api-Url": saleor.api_url,
                                                                "Saleor-Signature": saleor.key.sign(body),
                                                                "Saleor-Event": "order_created"})
            assert (status, answer["new_events"]) == (200, 1)
        forged = order_created(saleor, issued_at=now_iso())
        status, _ = post(base + "app/webhooks", forged, {"Saleor-Api-Url": saleor.api_url,
                                                         "Saleor-Signature": saleor.key.sign(forged + b" ")})
        assert status == 401
        deadline = time.monotonic() + 60
        with psycopg.connect(dbname=DATABASE, autocommit=True, **server_database) as conn:
            conn.execute(f'SET search_path TO "{schema}"')
            while True:
                entries = conn.execute("SELECT beneficiary FROM livedist_ledger_entry").fetchall()
                if entries or time.monotonic() > deadline:
                    break
                time.sleep(0.5)
            assert {row[0] for row in entries} == {DISTRIBUTOR}
            assert conn.execute("SELECT count(*) FROM livedist_inbox").fetchone()[0] == 3
            conn.execute("SET search_path TO public")
            assert conn.execute("SELECT count(*) FROM livedist_inbox").fetchone()[0] == 0
            token = conn.execute("SELECT sealed_token FROM livedist_app_tenant").fetchone()[0]
            assert saleor.token not in token
    finally:
        process.terminate()
        output = process.communicate(timeout=30)[0]
        print(output)  # shown when the test fails
        saleor.close()
    assert "manifest URL: " + base + "app/manifest" in output
