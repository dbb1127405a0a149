"""The retry policy: which failures are tried again, after how long, and when to stop.

Connection errors, 408, 409, 429 and 5xx are retried, with capped exponential backoff or the
wait the server asks for (``retry-after-ms``, ``Retry-After``), as openai-python does; other
4xx are not. The whole call has a bound: a wait that would end past it is no wait.
"""

from __future__ import annotations

import email.utils
import logging
import math
import random
import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timezone
from typing import Final

from realtime_config._errors import APIError

INITIAL_RETRY_DELAY: Final = 0.5
MAX_RETRY_DELAY: Final = 8.0
# As in openai-python >= 2.52: a server that asks for a longer wait is not retried at all.
MAX_RETRY_AFTER: Final = 120.0
RETRY_STATUSES: Final = frozenset({408, 409, 429})
"""The 4xx statuses tried again; every 5xx is too."""

logger = logging.getLogger("realtime_config")


@dataclass(frozen=True)
class Failure:
    """A failed attempt: its error, what caused it, and the wait before a retry (None: none).

    The error is built with the attempt's number, so its text already counts the attempts.
    """

    error: APIError
    cause: BaseException | None = None
    delay: float | None = None


def retry_delay(retries_taken: int, rand: float) -> float:
    """The backoff before the next retry, as openai-python computes it (``rand`` in [0, 1))."""
    # The exponent is bounded so that a huge max_retries cannot overflow the float.
    backoff = INITIAL_RETRY_DELAY * 2.0 ** min(retries_taken, 16)
    return min(backoff, MAX_RETRY_DELAY) * (1.0 - 0.25 * rand)


def backoff(retries_taken: int) -> float:
    """The backoff before the next retry, with a fresh random draw."""
    return retry_delay(retries_taken, random.random())


def retry_after_seconds(headers: Mapping[str, str], now: float) -> float | None:
    """The wait a response asks for via ``retry-after-ms`` or ``Retry-After``, if any.

    ``Retry-After`` may be seconds or an HTTP-date (compared with ``now``, unix time).
    Unparseable, non-finite or negative values count as absent.
    """
    seconds: float | None = None
    millis = headers.get("retry-after-ms")
    if millis is not None:
        seconds = finite_float(millis)
        if seconds is not None:
            seconds /= 1000.0
    if seconds is None:
        value = headers.get("retry-after")
        if value is None:
            return None
        seconds = finite_float(value)
        if seconds is None:
            try:
                when = email.utils.parsedate_to_datetime(value.strip())
            except (TypeError, ValueError, IndexError, OverflowError):
                return None
            if when.tzinfo is None:  # "-0000" dates: the RFC says they are UTC
                when = when.replace(tzinfo=timezone.utc)
            seconds = when.timestamp() - now
    if not math.isfinite(seconds) or seconds < 0:
        return None
    return seconds


def finite_float(text: str) -> float | None:
    """``text`` as a finite number, or None."""
    try:
        value = float(text.strip())
    except ValueError:
        return None
    return value if math.isfinite(value) else None


def status_wait(
    status: int, headers: Mapping[str, str], retries_taken: int, *, rate_limited: bool
) -> tuple[float | None, str]:
    """The wait before retrying an error status (None: not retried), and a note for its error.

    ``rate_limited=False`` leaves a 429 to the caller at once.
    """
    retried = RETRY_STATUSES if rate_limited else RETRY_STATUSES - {429}
    if status not in retried and status < 500:
        return None, ""
    asked = retry_after_seconds(headers, time.time())
    if asked is None or asked == 0:
        return backoff(retries_taken), ""
    if asked <= MAX_RETRY_AFTER:
        return asked, ""
    return None, (
        f"; the server asks to retry after {asked:.0f} s, longer than the "
        f"{MAX_RETRY_AFTER:.0f} s this client waits"
    )


def next_wait(
    failure: Failure, retries_taken: int, max_retries: int, call_ends: float, total_timeout: float
) -> float:
    """The wait before the next attempt; raise the failure's error when there is none.

    A wait that would end past the call's overall bound (``total_timeout``) is none: the
    next attempt could not have its deadline.
    """
    if failure.delay is None or retries_taken >= max_retries:
        raise failure.error from failure.cause
    if time.monotonic() + failure.delay >= call_ends:
        logger.info(
            "not retrying: a wait of %.2f s would pass the %g s bound of the whole call",
            failure.delay,
            total_timeout,
        )
        raise failure.error from failure.cause
    logger.info(
        "retrying in %.2f s (retry %d of %d) after: %s",
        failure.delay,
        retries_taken + 1,
        max_retries,
        failure.error,
    )
    return failure.delay
