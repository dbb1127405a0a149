"""Secrets in the base URL and short keys: never printed, whatever goes wrong.

A password (``https://user:pass@host``), a query string (``?api-key=...``) or a key in the
path of ``OPENAI_BASE_URL`` / ``--base-url`` must not reach an error, a dry run, a
connection or timeout message, or ``request_id``; nor may a key of any length that a
server echoes. Every canary below is looked for in every text the failure produces.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
from click.testing import CliRunner

from realtime_config import (
    APIResponseError,
    AuthenticationError,
    BadRequestError,
    ClientConfigError,
    RealtimeClient,
)
from realtime_config.cli import main
from tests.conftest import exception_texts, write
from tests.fake_api import CANARY_KEY, Reply, serve

PASSWORD = "pw-CANARY-7f3a9c"
QUERY_SECRET = "q-CANARY-51d2e8"
PATH_KEY = "sk-proj-CANARYpathkey0123456789"
SHORT_KEY = "k3y"
CANARIES = (PASSWORD, QUERY_SECRET, PATH_KEY, "CANARY")

PAYLOAD = {"model": "gpt-realtime-1.5", "modalities": ["text"]}
KEY_IN_PATH = (
    "the base URL's path holds what looks like an API key; "
    "a key is sent only in the Authorization header"
)

# Each base URL is refused before any request, with exactly this message.
REFUSED = {
    f"https://user:{PASSWORD}@api.example.test/v1": (
        "the base URL must not hold a user name or password"
    ),
    f"https://user:{PASSWORD}@api.example.test:port/v1": (
        "invalid base URL 'https://[redacted]@api.example.test:port/v1': not a valid URL"
    ),
    f"ftp://user:{PASSWORD}@api.example.test/v1": (
        "invalid base URL 'ftp://[redacted]@api.example.test/v1': "
        "expected http:// or https:// and a host"
    ),
    f"https://{PASSWORD}@api.example.test/v1": (
        "the base URL must not hold a user name or password"
    ),
    f"https://api.example.test/v1?api-key={QUERY_SECRET}": (
        "invalid base URL 'https://api.example.test/v1?[redacted]': it must not have a query "
        "string (?...); endpoint paths such as /realtime/sessions are appended to it"
    ),
    f"https://api.example.test/v1#{QUERY_SECRET}": (
        "invalid base URL 'https://api.example.test/v1#[redacted]': it must not have a "
        "fragment (#...); endpoint paths such as /realtime/sessions are appended to it"
    ),
    "https://api.example.test/v1?": (
        "invalid base URL 'https://api.example.test/v1?[redacted]': it must not have a query "
        "string (?...); endpoint paths such as /realtime/sessions are appended to it"
    ),
    f"https://proxy.example.test/{PATH_KEY}/v1": KEY_IN_PATH,
    f"https://proxy.example.test/{CANARY_KEY}/v1": KEY_IN_PATH,
    f"https://proxy.example.test/{CANARY_KEY.replace('-', '%2D')}/v1": KEY_IN_PATH,
}


def assert_no_canary(*texts: str) -> None:
    for text in texts:
        for canary in CANARIES:
            assert canary not in text, f"{canary!r} leaked in {text!r}"


@pytest.mark.parametrize("base_url", sorted(REFUSED))
def test_a_secret_in_the_base_url_is_refused_without_showing_it(base_url: str) -> None:
    with pytest.raises(ClientConfigError) as info:
        RealtimeClient(api_key=CANARY_KEY, base_url=base_url)
    assert str(info.value) == REFUSED[base_url]
    assert_no_canary(*exception_texts(info.value))


@pytest.mark.parametrize(
    "base_url",
    [
        "https://proxy.example.test/plain-CANARY-key/v1",
        "https://proxy.example.test/plain%2DCANARY-key/v1",
        "https://proxy.example.test:port/plain-CANARY-key/v1",
    ],
)
def test_the_api_key_itself_in_the_base_url_is_refused_whatever_its_shape(base_url: str) -> None:
    key = "plain-CANARY-key"  # not shaped like an OpenAI key: only equality can spot it
    with pytest.raises(ClientConfigError) as info:
        RealtimeClient(api_key=key, base_url=base_url)
    assert str(info.value) in (KEY_IN_PATH, "invalid base URL '[redacted]': not a valid URL")
    assert_no_canary(*exception_texts(info.value))


def test_a_plain_host_with_sk_in_a_word_is_no_key() -> None:
    client = RealtimeClient(api_key=CANARY_KEY, base_url="https://helpdesk-gateway.test/desk-a/v1")
    assert client.base_url == "https://helpdesk-gateway.test/desk-a/v1"
    client.close()


# --- keys of any length are redacted, in messages and in request ids --------------------------


def test_a_short_key_echoed_by_the_server_is_redacted() -> None:
    with (
        serve() as api,
        RealtimeClient(api_key=SHORT_KEY, base_url=api.base_url, max_retries=0) as client,
        pytest.raises(AuthenticationError) as info,
    ):
        client.send_payload(PAYLOAD, target="sessions")
    assert str(info.value).endswith(
        "invalid_api_key: Incorrect API key provided: [redacted]. (request id req_fake_123)"
    )
    assert all(SHORT_KEY not in text for text in exception_texts(info.value))


def test_a_key_echoed_in_the_request_id_is_redacted_on_success_and_failure() -> None:
    echo = {"x-request-id": f"req-{CANARY_KEY}"}
    with serve() as api:
        api.script(Reply(headers=echo), Reply(200, {"no": "secret"}, echo))
        with RealtimeClient(api_key=CANARY_KEY, base_url=api.base_url, max_retries=0) as client:
            created = client.send_payload(PAYLOAD, target="sessions")
            assert created.request_id == "req-[redacted]"
            with pytest.raises(APIResponseError) as info:
                client.send_payload(PAYLOAD, target="sessions")
    assert info.value.request_id == "req-[redacted]"
    assert all(CANARY_KEY not in text for text in exception_texts(info.value))


def test_a_key_echoed_percent_encoded_is_redacted() -> None:
    key = "sk-canary/with+odd=chars"

    def answer(request: httpx.Request) -> httpx.Response:
        echoed = "sk-canary%2Fwith%2Bodd%3Dchars"
        return httpx.Response(400, json={"error": {"message": f"bad key {echoed}"}})

    client = RealtimeClient(api_key=key, transport=httpx.MockTransport(answer))
    with client, pytest.raises(BadRequestError) as info:
        client.send_payload(PAYLOAD, target="sessions")
    assert str(info.value).endswith(": bad key [redacted]")


# --- through the command line: errors and dry runs ---------------------------------------------


@pytest.fixture
def preset(project: Path) -> Path:
    return write(project / "p.toml", 'model = "gpt-realtime-1.5"\n')


@pytest.mark.parametrize("base_url", sorted(REFUSED))
@pytest.mark.parametrize("where", ["--base-url", "OPENAI_BASE_URL"])
def test_submit_and_dry_run_never_print_a_secret_of_the_base_url(
    preset: Path, base_url: str, where: str
) -> None:
    env = {"OPENAI_API_KEY": CANARY_KEY, "OPENAI_BASE_URL": None}
    options = ["--base-url", base_url] if where == "--base-url" else []
    if where == "OPENAI_BASE_URL":
        env["OPENAI_BASE_URL"] = base_url
    for dry_run in ([], ["--dry-run"]):
        result = CliRunner().invoke(main, ["submit", "p.toml", *options, *dry_run], env=env)
        assert (result.exit_code, result.stdout) == (1, ""), result.output
        assert result.stderr == f"realtime-config: error: {REFUSED[base_url]}\n"
        assert_no_canary(result.stdout, result.stderr)


def test_the_installed_command_keeps_a_password_out_of_its_output(preset: Path) -> None:
    entry_point = Path(sys.executable).with_name("realtime-config")
    assert entry_point.is_file(), f"the installed entry point is missing: {entry_point}"
    env = {k: v for k, v in os.environ.items() if not k.startswith("OPENAI_")}
    env["OPENAI_BASE_URL"] = f"ftp://admin:{PASSWORD}@proxy.example.test/v1?token={QUERY_SECRET}"
    done = subprocess.run(
        [str(entry_point), "submit", "p.toml", "--dry-run"],
        cwd=preset.parent,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert (done.returncode, done.stdout) == (1, "")
    assert done.stderr == (
        "realtime-config: error: invalid base URL 'ftp://[redacted]@proxy.example.test/v1?"
        "[redacted]': expected http:// or https:// and a host\n"
    )
    assert_no_canary(done.stdout, done.stderr)


def test_timeouts_and_connection_errors_name_only_the_clean_url(preset: Path) -> None:
    with serve() as api:
        api.script(Reply(delay=5.0))
        env = {"OPENAI_API_KEY": CANARY_KEY, "OPENAI_BASE_URL": api.base_url}
        result = CliRunner().invoke(
            main, ["submit", "p.toml", "--timeout", "0.2", "--max-retries", "0"], env=env
        )
    assert result.exit_code == 1
    assert result.stderr == (
        f"realtime-config: error: timeout from POST {api.url('sessions')}: no complete "
        "response within the 0.2 s deadline\n"
    )
    assert CANARY_KEY not in result.output


def test_a_key_of_one_character_is_redacted_in_the_cli_too(preset: Path) -> None:
    with serve() as api:
        env = {"OPENAI_API_KEY": "Z", "OPENAI_BASE_URL": api.base_url}
        result = CliRunner().invoke(main, ["submit", "p.toml", "--max-retries", "0"], env=env)
    assert result.exit_code == 1
    assert result.stderr.endswith(
        "invalid_api_key: Incorrect API key provided: [redacted]. (request id req_fake_123)\n"
    )
