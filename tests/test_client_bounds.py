"""The client's bounds against the loopback fake: a deadline for each attempt (connect to last
byte), an overall bound on retries, and a size cap on answers that is never held whole.

An upstream that trickles its answer one byte at a time used to hold a request for as long
as it liked (each phase's timeout restarted on every byte); a 200 MB answer was buffered.
"""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from realtime_config import (
    APITimeoutError,
    AsyncRealtimeClient,
    ClientConfigError,
    RateLimitError,
    RealtimeClient,
    ResponseTooLargeError,
    ServerError,
)
from realtime_config.cli import main
from tests.conftest import write
from tests.fake_api import CANARY_KEY, FakeAPI, Reply, error_body

PAYLOAD = {"model": "gpt-realtime", "modalities": ["audio", "text"]}
MIB = 1024 * 1024

pytestmark = pytest.mark.usefixtures("clean_env")


def client_for(api: FakeAPI, **options: Any) -> RealtimeClient:
    settings: dict[str, Any] = {"api_key": CANARY_KEY, "base_url": api.base_url, "max_retries": 0}
    settings.update(options)
    return RealtimeClient(**settings)


def async_client_for(api: FakeAPI, **options: Any) -> AsyncRealtimeClient:
    settings: dict[str, Any] = {"api_key": CANARY_KEY, "base_url": api.base_url, "max_retries": 0}
    settings.update(options)
    return AsyncRealtimeClient(**settings)


# --- the deadline of an attempt ---------------------------------------------------------


def test_a_trickling_answer_ends_at_the_deadline(api: FakeAPI) -> None:
    """A valid answer, one byte every 0.2 s (some 50 s in all), against a 1.5 s deadline:
    every byte arrives well within any per-read timeout, so only a deadline ends it."""
    api.script(Reply(trickle=0.2))
    with client_for(api, timeout=1.5) as client:
        started = time.monotonic()
        with pytest.raises(APITimeoutError) as caught:
            client.send_payload(PAYLOAD, target="sessions")
        took = time.monotonic() - started
    assert 1.4 < took < 2.5
    assert str(caught.value) == (
        f"timeout from POST {api.url('sessions')}: no complete response within the 1.5 s deadline"
    )


def test_a_trickling_answer_ends_at_the_deadline_async(api: FakeAPI) -> None:
    api.script(Reply(trickle=0.2))

    async def attempt() -> float:
        async with async_client_for(api, timeout=1.5) as client:
            started = time.monotonic()
            with pytest.raises(APITimeoutError):
                await client.send_payload(PAYLOAD, target="sessions")
            return time.monotonic() - started

    assert 1.4 < asyncio.run(attempt()) < 2.5


def test_a_fast_answer_on_a_reused_connection_keeps_its_own_deadline(api: FakeAPI) -> None:
    """The deadline follows each attempt, not the pooled connection it runs on."""
    with client_for(api, timeout=1.0) as client:
        client.send_payload(PAYLOAD, target="sessions")
        time.sleep(1.2)  # longer than the first attempt's deadline
        assert client.send_payload(PAYLOAD, target="sessions").client_secret.value


def test_retries_have_an_overall_bound(api: FakeAPI) -> None:
    """Three trickling attempts of 1 s each, plus backoff, would pass the 3 s bound: the
    retry whose wait would pass it is not taken."""
    api.script(Reply(trickle=0.2), Reply(trickle=0.2), Reply(trickle=0.2))
    with client_for(api, timeout=1.0, max_retries=2) as client:
        started = time.monotonic()
        with pytest.raises(APITimeoutError):
            client.send_payload(PAYLOAD, target="sessions")
        took = time.monotonic() - started
    assert took < 3.2
    assert client.total_timeout == 3.0


def test_a_retry_after_longer_than_the_bound_is_not_waited_for(api: FakeAPI) -> None:
    api.script(Reply(429, error_body("slow down", "requests", None), {"Retry-After": "20"}))
    with client_for(api, timeout=1.0, max_retries=2) as client:
        started = time.monotonic()
        with pytest.raises(RateLimitError) as caught:
            client.send_payload(PAYLOAD, target="sessions")
    assert time.monotonic() - started < 1
    assert caught.value.retry_after == 20
    assert len(api.requests) == 1


def test_total_timeout_is_settable_and_checked(api: FakeAPI) -> None:
    api.script(Reply(503, error_body("busy", "server_error", None), {"Retry-After": "0.5"}))
    client = client_for(api, timeout=5, max_retries=3, total_timeout=0.3)
    with client, pytest.raises(ServerError, match="503"):
        client.send_payload(PAYLOAD, target="sessions")
    assert len(api.requests) == 1
    for bad in (0, -1, float("nan"), "5", True):
        with pytest.raises(ClientConfigError) as caught:
            client_for(api, total_timeout=bad)
        assert str(caught.value) == f"total_timeout must be a number of seconds > 0, not {bad!r}"


def test_rate_limits_can_be_passed_on_at_once(api: FakeAPI) -> None:
    """What serve does: a 429 goes back to the browser with its Retry-After, no sleeping."""
    api.script(Reply(429, error_body("slow down", "requests", None), {"Retry-After": "1"}))
    with client_for(api, max_retries=2, retry_rate_limited=False) as client:
        started = time.monotonic()
        with pytest.raises(RateLimitError):
            client.send_payload(PAYLOAD, target="sessions")
    assert time.monotonic() - started < 0.9
    assert len(api.requests) == 1


# --- the size cap -------------------------------------------------------------------------


@pytest.mark.parametrize("announce", [True, False], ids=["content-length", "until-close"])
def test_an_answer_over_the_cap_is_an_error(api: FakeAPI, announce: bool) -> None:
    api.script(Reply(size=200 * MIB, announce=announce))
    with client_for(api, timeout=10) as client:
        started = time.monotonic()
        with pytest.raises(ResponseTooLargeError) as caught:
            client.send_payload(PAYLOAD, target="sessions")
    assert time.monotonic() - started < 5
    assert str(caught.value) == (
        f"invalid response from POST {api.url('sessions')}:"
        + (" 200 OK" if announce else "")
        + " larger than the 1048576-byte cap; read no further"
    )
    assert caught.value.status_code == (200 if announce else None)


def test_an_error_body_over_the_cap_is_an_error_too(api: FakeAPI) -> None:
    api.script(Reply(500, size=3 * MIB, announce=False))
    with client_for(api) as client, pytest.raises(ResponseTooLargeError):
        client.send_payload(PAYLOAD, target="sessions")


def test_the_cap_is_settable(api: FakeAPI) -> None:
    client = client_for(api, max_response_bytes=64)
    with client, pytest.raises(ResponseTooLargeError, match="larger than the 64-byte cap"):
        client.send_payload(PAYLOAD, target="sessions")
    with client_for(api, max_response_bytes=4096) as client:
        assert client.send_payload(PAYLOAD, target="sessions").client_secret.value
    for bad in (0, -5, 1.5, True, "1"):
        with pytest.raises(ClientConfigError) as caught:
            client_for(api, max_response_bytes=bad)
        assert str(caught.value) == (f"max_response_bytes must be a whole number >= 1, not {bad!r}")


def test_an_async_answer_over_the_cap_is_an_error(api: FakeAPI) -> None:
    api.script(Reply(size=50 * MIB, announce=False))

    async def attempt() -> None:
        async with async_client_for(api) as client:
            with pytest.raises(ResponseTooLargeError):
                await client.send_payload(PAYLOAD, target="sessions")

    asyncio.run(attempt())


PEAK_RSS = """
import json, resource, sys
from realtime_config import RealtimeClient, ResponseTooLargeError
client = RealtimeClient(api_key=sys.argv[1], base_url=sys.argv[2], max_retries=0, timeout=30)
payload = {"model": "gpt-realtime"}
client.send_payload(payload, target="sessions")  # warm: everything imported, one answer parsed
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
try:
    client.send_payload(payload, target="sessions")
    outcome = "ok"
except ResponseTooLargeError:
    outcome = "too large"
after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(json.dumps({"outcome": outcome, "growth_kib": after - before}))
"""


def test_memory_stays_bounded_whatever_the_answers_size(api: FakeAPI) -> None:
    """The peak RSS of a process that is sent 200 MB grows by about the cap, not the answer."""
    api.script(Reply(), Reply(size=200 * MIB, announce=False))
    done = subprocess.run(
        [sys.executable, "-c", PEAK_RSS, CANARY_KEY, api.base_url],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    measured = json.loads(done.stdout)
    assert measured["outcome"] == "too large"
    assert measured["growth_kib"] < 16 * 1024, measured  # the answer is 200 MiB


@pytest.mark.parametrize(
    ("reply", "message"),
    [
        (Reply(trickle=0.2), "no complete response within the 1 s deadline"),
        (Reply(size=200 * MIB), "200 OK larger than the 1048576-byte cap; read no further"),
    ],
    ids=["trickle", "oversize"],
)
def test_submit_keeps_the_deadline_and_the_cap(
    api: FakeAPI, project: Path, reply: Reply, message: str
) -> None:
    write(project / "p.toml", 'type = "realtime"\nmodel = "gpt-realtime-2.1"\n')
    api.script(reply)
    env = {"OPENAI_API_KEY": CANARY_KEY, "OPENAI_BASE_URL": api.base_url}
    started = time.monotonic()
    result = CliRunner().invoke(
        main, ["submit", "p.toml", "--timeout", "1", "--max-retries", "0"], env=env
    )
    assert time.monotonic() - started < 3
    assert result.exit_code == 1
    assert result.stderr.startswith("realtime-config: error: ")
    assert result.stderr.rstrip().endswith(message)
    assert CANARY_KEY not in result.output
