"""The dask.distributed client: bad addresses fail in one line, quickly."""

import time

import pytest

from geomcore.cluster import CONNECT_TIMEOUT_S, client, default_workers
from geomcore.errors import GeomcoreError


def test_default_workers_is_the_usable_cores():
    import os

    assert default_workers() == len(os.sched_getaffinity(0))


@pytest.mark.slow  # waits out the connection timeout
def test_a_scheduler_that_does_not_answer_fails_in_one_line_within_ten_seconds():
    start = time.monotonic()
    with pytest.raises(GeomcoreError) as err, client("tcp://127.0.0.1:9"):
        pass
    elapsed = time.monotonic() - start
    assert elapsed < 10.0
    assert elapsed >= CONNECT_TIMEOUT_S * 0.9
    message = str(err.value)
    assert "\n" not in message
    assert "tcp://127.0.0.1:9" in message and "did not answer" in message


def test_a_malformed_address_is_named():
    with pytest.raises(GeomcoreError, match="not a scheduler address") as err, client("nohost"):
        pass
    assert "\n" not in str(err.value)


@pytest.mark.parametrize("n", [0, -1, 1.5, True])
def test_local_worker_count_must_be_positive(n):
    with pytest.raises(GeomcoreError, match="n_workers must be a positive integer"), client(
        n_workers=n
    ):
        pass
