"""Settings refuse unsafe production set-ups; the CLI and health endpoints work."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from identity.errors import PROBLEMS, UnavailableError
from service.settings import Settings, SettingsError, decode_secret
from tests.service.conftest import services_of


def test_production_refuses_to_start_without_an_admin_token(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("IDENTITY_ENV", "production")
    monkeypatch.setenv("IDENTITY_MASTER_SECRET", "ab" * 32)
    with pytest.raises(ValueError, match="IDENTITY_ADMIN_TOKEN"):
        Settings()


def test_production_refuses_a_short_admin_token(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("IDENTITY_ENV", "production")
    monkeypatch.setenv("IDENTITY_ADMIN_TOKEN", "short")
    monkeypatch.setenv("IDENTITY_MASTER_SECRET", "ab" * 32)
    with pytest.raises(ValueError, match="32"):
        Settings()


def test_production_refuses_to_start_without_a_master_secret(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("IDENTITY_ENV", "production")
    monkeypatch.setenv("IDENTITY_ADMIN_TOKEN", "t" * 40)
    with pytest.raises(ValueError, match="IDENTITY_MASTER_SECRET"):
        Settings()


def test_secrets_never_show_in_the_settings_repr() -> None:
    settings = Settings(admin_token="very-secret-token-" + "x" * 20, master_secret="cd" * 32)
    assert "very-secret" not in repr(settings)
    assert "cdcdcd" not in repr(settings)


def test_development_generates_owner_only_secrets_once(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path)
    token = settings.admin_token_value()
    secret = settings.master_secret_bytes()
    assert len(token) >= 32 and len(secret) == 32
    assert Settings(data_dir=tmp_path).admin_token_value() == token
    assert Settings(data_dir=tmp_path).master_secret_bytes() == secret
    for name in ("admin.token", "master.key"):
        assert stat.S_IMODE((tmp_path / name).stat().st_mode) == 0o600


@pytest.mark.parametrize("text", ["ab" * 32, "q" * 43, "short", "!!" * 40])
def test_master_secret_must_be_32_bytes_of_hex_or_base64(text: str) -> None:
    if text in ("short", "!!" * 40):
        with pytest.raises(SettingsError):
            decode_secret(text)
    else:
        assert len(decode_secret(text)) >= 32


def test_unknown_storage_scheme_is_refused() -> None:
    with pytest.raises(SettingsError, match="IDENTITY_STORAGE_URL: must start with"):
        Settings(storage_url="postgres://x")


def test_health_reports_ok_and_live_needs_nothing(client: TestClient) -> None:
    assert client.get("/health").json()["status"] == "ok"
    assert client.get("/health/live").json() == {"status": "ok"}


def test_health_is_503_with_retry_after_when_the_store_is_down(
    client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    def down() -> None:
        raise UnavailableError("store unreachable", retry_after=2)

    monkeypatch.setattr(services_of(client).store, "ping", down)
    response = client.get("/health")
    assert response.status_code == 503
    assert response.headers["retry-after"] == "2"
    assert response.json()["type"] == PROBLEMS + "unavailable"


def test_unexpected_errors_are_a_generic_500_without_detail(
    client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    def boom() -> None:
        raise RuntimeError("secret internal state")

    monkeypatch.setattr(services_of(client).store, "ping", boom)
    response = client.get("/health")
    assert response.status_code == 500
    assert "secret internal state" not in response.text
    assert response.json()["type"] == PROBLEMS + "internal"


def test_openapi_page_lists_the_vc_api_endpoints(client: TestClient) -> None:
    paths = client.get("/openapi.json").json()["paths"]
    for path in ("/credentials/issue", "/credentials/verify", "/issuers", "/dids/{did}", "/health"):
        assert path in paths
    assert client.get("/docs").status_code == 200


def _cli(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    exe = Path(sys.executable).with_name("identity")
    return subprocess.run(
        [str(exe), *args],
        capture_output=True,
        check=False,
        text=True,
        env={**os.environ, **env},
        timeout=60,
    )


def test_cli_creates_an_issuer_in_the_store(tmp_path: Path) -> None:
    result = _cli(
        "issuer",
        "create",
        "Civil Affairs Bureau",
        "--id",
        "cab",
        env={"IDENTITY_DATA_DIR": str(tmp_path)},
    )
    assert result.returncode == 0, result.stderr
    created = json.loads(result.stdout)
    assert created["id"] == "cab" and created["did"].startswith("did:key:z6Mk")
    assert created["apiKey"].startswith("ik_")


def test_cli_refuses_unsafe_production_settings_in_one_line(tmp_path: Path) -> None:
    result = _cli("serve", env={"IDENTITY_DATA_DIR": str(tmp_path), "IDENTITY_ENV": "production"})
    assert result.returncode == 2
    assert "refusing to start" in result.stderr
    assert "Traceback" not in result.stderr


def test_cli_refuses_an_unreachable_redis_without_a_traceback_or_password(tmp_path: Path) -> None:
    result = _cli(
        "serve",
        env={
            "IDENTITY_DATA_DIR": str(tmp_path),
            "IDENTITY_STORAGE_URL": "redis://:hunter2@127.0.0.1:1/0",
        },
    )
    assert result.returncode == 2
    assert "does not answer" in result.stderr
    assert "hunter2" not in result.stderr and "Traceback" not in result.stderr


@pytest.mark.redis_server
def test_production_refuses_an_empty_redis_prefix_unless_initializing(tmp_path: Path) -> None:
    from service.storage import open_store
    from tests.storage.redis_backends import REDIS_URL, connect_real_redis, new_prefix

    connect_real_redis().close()  # skip (or fail under CI) when no server answers
    prefix = new_prefix()
    settings = Settings(
        env="production",
        admin_token="t" * 40,
        master_secret="ab" * 32,
        data_dir=tmp_path,
        storage_url=REDIS_URL,
        redis_prefix=prefix,
    )
    with pytest.raises(SettingsError, match="wrong prefix"):
        open_store(settings)
    store = open_store(settings.model_copy(update={"redis_initialize": True}))
    store.close()
