"""Start-up refusals (issue #13): every one is a few clear lines naming the setting and
what to do, exit 2, no traceback -- and no secret it was given, not even a part of one."""

from __future__ import annotations

import os
import secrets
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from service.settings import Settings, SettingsError

GOOD_TOKEN = secrets.token_urlsafe(32)
GOOD_SECRET = secrets.token_hex(32)


def identity(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """Run the CLI with exactly these ``IDENTITY_*`` variables (none from this process)."""
    exe = Path(sys.executable).with_name("identity")
    clean = {k: v for k, v in os.environ.items() if not k.upper().startswith("IDENTITY_")}
    return subprocess.run(
        [str(exe), *args],
        capture_output=True,
        check=False,
        text=True,
        env=clean | env,
        timeout=60,
    )


def leaked(output: str, secret: str, window: int = 8) -> list[str]:
    """Every piece of ``secret`` (``window`` characters or more) found in ``output``."""
    return [
        secret[i : i + window]
        for i in range(len(secret) - window + 1)
        if secret[i : i + window] in output
    ]


def assert_refused(result: subprocess.CompletedProcess[str], *lines: str) -> list[str]:
    """Exit 2; stderr says ``refusing to start`` and lists each of ``lines`` on a line of
    its own that names the setting first; nothing else is printed. The problem lines."""
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr and result.stdout == ""
    head = "identity: refusing to start: "
    refusal = result.stderr[result.stderr.index(head) + len(head) :].splitlines()
    problems = [line.strip() for line in refusal[1:]] or refusal
    assert len(problems) == 1 or refusal[0] == f"{len(problems)} settings to fix:", refusal
    for line in lines:
        assert any(p.startswith(line) for p in problems), (line, problems)
    assert all(p.startswith("IDENTITY_") for p in problems), problems
    return problems


SECRET_CASES = {
    "missing token, 30-byte secret": (
        {"IDENTITY_MASTER_SECRET": secrets.token_hex(30)},
        ["IDENTITY_ADMIN_TOKEN: must be set", "IDENTITY_MASTER_SECRET: must be 32+ bytes"],
    ),
    "short token, no secret": (
        {"IDENTITY_ADMIN_TOKEN": secrets.token_urlsafe(20)},
        ["IDENTITY_ADMIN_TOKEN: must be set", "IDENTITY_MASTER_SECRET: must be set"],
    ),
    "secret neither hex nor base64": (
        {"IDENTITY_ADMIN_TOKEN": GOOD_TOKEN, "IDENTITY_MASTER_SECRET": "!" + GOOD_SECRET},
        ["IDENTITY_MASTER_SECRET: must be 32+ bytes"],
    ),
    "a secret under a mistyped name": (
        {"IDENTITY_ADMIN_TOKN": GOOD_TOKEN, "IDENTITY_MASTER_SECRET": GOOD_SECRET},
        [
            "IDENTITY_ADMIN_TOKEN: must be set",
            "IDENTITY_ADMIN_TOKN: not a setting (did you mean IDENTITY_ADMIN_TOKEN?)",
        ],
    ),
    "every mistake at once": (
        {
            "IDENTITY_ADMIN_TOKEN": secrets.token_urlsafe(12),
            "IDENTITY_MASTER_SECRET": secrets.token_hex(30),
            "IDENTITY_PUBLIC_URL": "id.city.gov",
            "IDENTITY_REDIS_TIMEOUT_S": "soon",
            "IDENTITY_DID_WEB_ALLOW_HTTP": "true",
            "IDENTITY_STORAGE_URL": "postgres://u:" + GOOD_TOKEN + "@db/x",
            "IDENTITY_LOG_ORIGN": "x",
        },
        [
            "IDENTITY_ADMIN_TOKEN:",
            "IDENTITY_MASTER_SECRET:",
            "IDENTITY_PUBLIC_URL: must be an absolute http:// or https:// URL",
            "IDENTITY_REDIS_TIMEOUT_S:",
            "IDENTITY_DID_WEB_ALLOW_HTTP: must not be set in production",
            "IDENTITY_STORAGE_URL: must start with",
            "IDENTITY_LOG_ORIGN: not a setting (did you mean IDENTITY_LOG_ORIGIN?)",
        ],
    ),
}


@pytest.mark.parametrize("case", sorted(SECRET_CASES))
def test_production_lists_every_problem_and_echoes_no_secret(tmp_path: Path, case: str) -> None:
    given, lines = SECRET_CASES[case]
    env = {"IDENTITY_ENV": "production", "IDENTITY_DATA_DIR": str(tmp_path), **given}
    result = identity("serve", env=env)
    problems = assert_refused(result, *lines)
    assert len(problems) == len(lines)  # one line per problem, none twice
    output = result.stdout + result.stderr
    for name, value in given.items():
        if "TOKEN" in name or "SECRET" in name or "STORAGE" in name or "TOKN" in name:
            assert leaked(output, value.rpartition(":")[2]) == [], name
    assert list(tmp_path.iterdir()) == []  # nothing written


def test_a_mistyped_env_asking_for_production_is_refused_before_any_secret_is_made(
    tmp_path: Path,
) -> None:
    result = identity(
        "serve", env={"IDENTITY_ENVIRONMENT": "production", "IDENTITY_DATA_DIR": str(tmp_path)}
    )
    assert_refused(result, "IDENTITY_ENVIRONMENT: not a setting (did you mean IDENTITY_ENV?)")
    assert not (tmp_path / "admin.token").exists() and not (tmp_path / "master.key").exists()


def test_development_warns_about_an_unknown_variable_and_goes_on(tmp_path: Path) -> None:
    result = identity(
        "issuer",
        "create",
        "Civil Affairs Bureau",
        env={"IDENTITY_DATA_DIR": str(tmp_path), "IDENTITY_PUBLIC_URI": "https://id.example"},
    )
    assert result.returncode == 0, result.stderr
    assert "IDENTITY_PUBLIC_URI: not a setting (did you mean IDENTITY_PUBLIC_URL?)" in (
        result.stderr
    )
    assert "https://id.example" not in result.stderr


def test_a_30_byte_master_secret_is_refused_by_the_settings_check_in_one_line(
    tmp_path: Path,
) -> None:
    secret = secrets.token_hex(30)
    env = {"IDENTITY_DATA_DIR": str(tmp_path), "IDENTITY_MASTER_SECRET": secret}
    result = identity("serve", env=env)
    assert len(assert_refused(result, "IDENTITY_MASTER_SECRET: must be 32+ bytes")) == 1
    assert len(result.stderr.strip().splitlines()) == 1
    assert leaked(result.stderr, secret) == []
    with pytest.raises(SettingsError) as caught:
        Settings(master_secret=secret, data_dir=tmp_path)
    assert caught.value.problems[0].startswith("IDENTITY_MASTER_SECRET: must be 32+ bytes")


@pytest.mark.parametrize(
    "env_change",
    [
        {"IDENTITY_MASTER_SECRET": secrets.token_hex(32)},
        {"IDENTITY_LOG_ORIGIN": "another.example/log"},
    ],
)
def test_existing_data_under_another_master_secret_or_origin_is_one_clear_line(
    tmp_path: Path, env_change: dict[str, str]
) -> None:
    env = {"IDENTITY_DATA_DIR": str(tmp_path), "IDENTITY_MASTER_SECRET": GOOD_SECRET}
    made = identity("issuer", "create", "Civil Affairs Bureau", env=env)
    assert made.returncode == 0, made.stderr
    result = identity("serve", env=env | env_change)
    (line,) = assert_refused(result, "IDENTITY_MASTER_SECRET or IDENTITY_LOG_ORIGIN changed")
    assert "start with the ones it was created with" in line
    for secret in (GOOD_SECRET, env_change.get("IDENTITY_MASTER_SECRET", "")):
        assert leaked(result.stderr, secret) == []


@pytest.mark.parametrize(
    ("given", "line"),
    [
        ({"IDENTITY_CONTEXTS_DIR": "{tmp}/none"}, "IDENTITY_CONTEXTS_DIR: must be a folder"),
        (
            {"IDENTITY_STORAGE_URL": "sqlite:///{tmp}/a-file/db.sqlite3"},
            "IDENTITY_DATA_DIR / IDENTITY_STORAGE_URL: cannot open",
        ),
        (
            {"IDENTITY_STORAGE_URL": "redis://:" + GOOD_TOKEN + "@127.0.0.1:1/0"},
            "IDENTITY_STORAGE_URL: Redis at redis://***@127.0.0.1:1/0 does not answer",
        ),
        ({"IDENTITY_ENV": "prod"}, "IDENTITY_ENV: Input should be 'development' or 'production'"),
    ],
)
def test_every_start_up_refusal_is_one_line_naming_the_setting(
    tmp_path: Path, given: dict[str, str], line: str
) -> None:
    (tmp_path / "a-file").write_text("not a folder")
    env = {k: v.replace("{tmp}", str(tmp_path)) for k, v in given.items()}
    result = identity("serve", env={"IDENTITY_DATA_DIR": str(tmp_path / "data"), **env})
    assert len(assert_refused(result, line)) == 1
    assert leaked(result.stderr, GOOD_TOKEN) == []


def test_settings_errors_carry_no_value_even_in_python(tmp_path: Path) -> None:
    token = secrets.token_urlsafe(12)
    with pytest.raises(SettingsError) as caught:
        Settings(env="production", admin_token=token, data_dir=tmp_path)
    text = str(caught.value) + repr(caught.value) + repr(caught.value.__cause__)
    assert leaked(text, token) == []
    assert caught.value.__cause__ is None and caught.value.__suppress_context__


@pytest.mark.parametrize("url", ["id.city.gov", "ftp://id.city.gov", "https://", "/relative"])
def test_the_public_url_must_be_absolute_http_or_https(url: str) -> None:
    with pytest.raises(SettingsError, match="IDENTITY_PUBLIC_URL: must be an absolute"):
        Settings(public_url=url)


@pytest.mark.parametrize(
    "url", ["https://admin:pw@id.city.gov", "https://id.city.gov/?x=1", "https://id.city.gov#a"]
)
def test_the_public_url_has_no_user_query_or_fragment(url: str) -> None:
    with pytest.raises(SettingsError, match="IDENTITY_PUBLIC_URL: must have no user") as caught:
        Settings(public_url=url)
    assert "pw" not in str(caught.value)
    assert Settings(public_url="https://id.city.gov:8443/identity").public_url


# -- where `identity serve` listens ------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _listening_on(port: int) -> list[str]:
    """Local addresses (hex, as in /proc/net/tcp[6]) of sockets listening on ``port``."""
    found = []
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        if not Path(table).exists():
            continue
        for row in Path(table).read_text().splitlines()[1:]:
            local, state = row.split()[1], row.split()[3]
            address, _, hex_port = local.partition(":")
            if state == "0A" and int(hex_port, 16) == port:
                found.append(address)
    return found


@pytest.fixture
def serving(tmp_path: Path) -> Iterator[tuple[int, subprocess.Popen[str]]]:
    port = _free_port()
    exe = Path(sys.executable).with_name("identity")
    clean = {k: v for k, v in os.environ.items() if not k.upper().startswith("IDENTITY_")}
    process = subprocess.Popen(
        [str(exe), "serve", "--port", str(port)],
        env=clean | {"IDENTITY_DATA_DIR": str(tmp_path)},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        yield port, process
    finally:
        process.terminate()
        process.wait(timeout=30)


@pytest.mark.skipif(not Path("/proc/net/tcp").exists(), reason="reads Linux /proc/net/tcp")
def test_serve_listens_on_loopback_only_by_default_in_development(
    serving: tuple[int, subprocess.Popen[str]],
) -> None:
    port, process = serving
    deadline = time.monotonic() + 30
    while not _listening_on(port):
        assert process.poll() is None, "identity serve exited"
        assert time.monotonic() < deadline, "identity serve did not listen"
        time.sleep(0.1)
    assert _listening_on(port) == ["0100007F"]  # 127.0.0.1, and nothing else


def test_the_default_host_is_loopback_outside_production() -> None:
    assert Settings().default_host == "127.0.0.1"
    production = Settings(env="production", admin_token=GOOD_TOKEN, master_secret=GOOD_SECRET)
    assert production.default_host == "0.0.0.0"  # the container's own choice


def test_the_readme_walk_through_writes_no_api_key_to_a_world_readable_file(
    tmp_path: Path,
) -> None:
    readme = (Path(__file__).parents[2] / "README.md").read_text()
    block = readme.split("### Walk-through with curl", 1)[1].split("```sh\n", 1)[1]
    lines = block.split("```", 1)[0].splitlines()
    writes = [i for i, line in enumerate(lines) if "tee " in line or "> " in line]
    umask = [i for i, line in enumerate(lines) if line.startswith("umask 077")]
    assert writes and umask and umask[0] < writes[0]
    # The snippet's own umask line, then a file written as the walk-through writes them.
    command = lines[umask[0]] + '\nprintf \'{"apiKey": "ik_x.y"}\' | tee agency.json'
    subprocess.run(["sh", "-c", command], cwd=tmp_path, check=True, capture_output=True)
    assert (tmp_path / "agency.json").stat().st_mode & 0o077 == 0


def test_the_container_listens_on_all_interfaces_by_saying_so() -> None:
    dockerfile = (Path(__file__).parents[2] / "Dockerfile").read_text()
    (command,) = [line for line in dockerfile.splitlines() if line.startswith("CMD ")]
    assert "identity serve --host 0.0.0.0" in command
