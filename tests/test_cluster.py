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


def _environ(name: str) -> str | None:
    import os

    return os.environ.get(name)


@pytest.mark.slow  # starts a local cluster
def test_local_workers_start_without_dasks_malloc_trim_threshold():
    # Any MALLOC_TRIM_THRESHOLD_ turns off glibc's adaptive mmap threshold (slower frames);
    # Dask's other worker settings stay.
    with client(n_workers=1) as c:
        assert c.submit(_environ, "MALLOC_TRIM_THRESHOLD_").result() is None
        assert c.submit(_environ, "OMP_NUM_THREADS").result() == "1"


def test_local_workers_default_to_the_cores_and_refuse_non_positive_counts():
    from geomcore.cluster import local_workers

    assert local_workers(None) == default_workers()
    assert local_workers(3) == 3
    for bad in (0, -2, True, 1.5):
        with pytest.raises(GeomcoreError, match=f"n_workers must be a positive integer, "
                                                f"got {bad!r}"):
            local_workers(bad)
