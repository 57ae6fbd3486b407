"""Who may call the server: on 127.0.0.1 anyone local, but no page of another site (the web UI's
Host rule, and its Origin); on any other address only a caller with the API token, which the
server will not start without. The other address is 127.0.0.2, still this machine."""

from __future__ import annotations

from collections.abc import Callable

import httpx
import pytest

from app.http.server import guarded
from app.services.collections import Collections
from app.settings import Settings
from core.errors import LongqaError
from tests.app.http.conftest import Running

TOKEN = "s3cret-token"


def test_another_address_needs_a_token_to_start(settings: Settings) -> None:
    for host in ("127.0.0.2", "0.0.0.0", "192.168.1.5"):
        with pytest.raises(
            LongqaError, match=f"^listening on {host} needs an API token: set LONGQA_API_TOKEN"
        ):
            guarded(settings, Collections(settings.collections), host, None)


def test_on_another_address_every_route_needs_the_token(serve: Callable[..., Running]) -> None:
    running = serve(host="127.0.0.2", token=TOKEN)
    assert running.url.startswith("http://127.0.0.2:")
    for path in ("/collections", "/v1/models", "/docs", "/openapi.json", "/jobs/1-x", "/no/route"):
        bare = httpx.get(running.url + path)
        assert bare.status_code == 401 and bare.headers["www-authenticate"] == "Bearer"
        if path.startswith("/v1/"):
            assert bare.json()["error"]["message"].startswith("this server needs its API token")
        else:
            assert bare.json() == {
                "error": "this server needs its API token: send Authorization: Bearer TOKEN"
            }
        wrong = httpx.get(running.url + path, headers={"Authorization": "Bearer guess"})
        assert wrong.status_code == 401 and "wrong API token" in wrong.text
    posted = httpx.post(running.url + "/collections", json={"name": "papers"})
    assert posted.status_code == 401
    right = {"Authorization": f"Bearer {TOKEN}"}
    assert httpx.post(running.url + "/collections", json={"name": "papers"}, headers=right).status_code == 201
    assert [c["name"] for c in httpx.get(running.url + "/collections", headers=right).json()] == ["papers"]
    # off loopback the Host names whatever the network calls this machine: the token guards it
    named = httpx.get(running.url + "/collections", headers={**right, "Host": "longqa.lan:8000"})
    assert named.status_code == 200


def test_on_loopback_no_other_site_may_drive_it(serve: Callable[..., Running]) -> None:
    url = serve().url
    for host in ("localhost", "127.0.0.1", f"127.0.0.1:{url.rsplit(':', 1)[1]}", "[::1]:8000"):
        assert httpx.get(url + "/collections", headers={"Host": host}).status_code == 200
    rebound = httpx.get(url + "/collections", headers={"Host": "evil.example:8000"})
    assert rebound.status_code == 403
    assert rebound.json() == {"error": "this server answers to localhost only, not to 'evil.example:8000'"}
    page = httpx.post(url + "/collections", json={"name": "x"}, headers={"Origin": "https://evil.example"})
    assert page.status_code == 403
    assert page.json() == {
        "error": "requests from pages of 'https://evil.example' are refused: this server is local"
    }
    assert httpx.get(url + "/collections").json() == []  # nothing was created
    own = httpx.post(url + "/collections", json={"name": "x"}, headers={"Origin": "http://localhost:8000"})
    assert own.status_code == 201


def test_a_token_on_loopback_is_checked_too(serve: Callable[..., Running]) -> None:
    url = serve(token=TOKEN).url
    assert httpx.get(url + "/collections").status_code == 401
    assert httpx.get(url + "/collections", headers={"Authorization": f"bearer {TOKEN}"}).status_code == 200
