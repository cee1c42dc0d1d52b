"""Work beyond one process: a dask.distributed client for sweeps and the parallel render.

Both of geomcore's jobs that grow with their users (sweeps of many runs, the lecture's
chapters) hand independent tasks to a ``dask.distributed`` scheduler: by default a
:class:`distributed.LocalCluster` of worker *processes* on this machine, or any running
scheduler named by its address (``--scheduler tcp://host:8786``). Tasks return paths of files
they wrote into the cache or the media folder, so results look exactly as in a local run
(the workers must share those folders, e.g. over NFS, when the scheduler is remote).

Dask's documentation: https://distributed.dask.org/en/stable/client.html and
https://distributed.dask.org/en/stable/api.html#distributed.LocalCluster
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from typing import TYPE_CHECKING

from geomcore.errors import GeomcoreError

if TYPE_CHECKING:
    from distributed import Client

__all__ = ["CONNECT_TIMEOUT_S", "client", "default_workers", "local_workers"]

#: Seconds to wait for a scheduler given by address before giving up with a one-line error.
CONNECT_TIMEOUT_S: float = 8.0


def default_workers() -> int:
    """Number of local worker processes: one per core this process may use.

    Returns
    -------
    int
        ``len(os.sched_getaffinity(0))`` where available, else ``os.cpu_count()``; at least 1.
    """
    try:
        n = len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        n = os.cpu_count() or 1
    return max(1, n)


def local_workers(n_workers: int | None) -> int:
    """The local cluster's worker processes: ``n_workers``, or one a core when ``None``.

    Raises
    ------
    GeomcoreError
        If ``n_workers`` is not a positive integer (one line).
    """
    workers = default_workers() if n_workers is None else n_workers
    if not isinstance(workers, int) or isinstance(workers, bool) or workers < 1:
        raise GeomcoreError(f"n_workers must be a positive integer, got {n_workers!r}")
    return workers


@contextlib.contextmanager
def client(
    scheduler: str | None = None,
    *,
    n_workers: int | None = None,
    threads_per_worker: int = 1,
    memory_limit: str | None = None,
) -> Iterator[Client]:
    """Open a dask.distributed client, and close it (and any cluster it started) on exit.

    Parameters
    ----------
    scheduler : str or None
        Address of a running scheduler (``"tcp://10.0.0.5:8786"``); ``None`` starts a
        :class:`distributed.LocalCluster` of worker processes on this machine.
    n_workers : int or None
        Local worker processes (``None``: :func:`default_workers`). Ignored with a scheduler.
    threads_per_worker : int
        Threads per local worker; 1, since each task (a batched training program, a chapter
        render) already keeps a core busy.
    memory_limit : str or None
        Per-worker memory limit for the local cluster (``"4GiB"``); ``None`` lets Dask pick
        the machine's memory divided by the workers.

    Yields
    ------
    distributed.Client
        The connected client.

    Raises
    ------
    GeomcoreError
        If ``n_workers`` is not a positive integer, or the scheduler at ``scheduler`` does not
        answer within :data:`CONNECT_TIMEOUT_S` seconds (one line, naming the address).
    """
    import dask
    from distributed import Client, LocalCluster

    if scheduler is None:
        workers = local_workers(n_workers)
        kwargs: dict[str, object] = {}
        if memory_limit is not None:
            kwargs["memory_limit"] = memory_limit
        # processes=True: Keras and Manim hold the GIL and global state; each task needs its
        # own interpreter. The scheduler's HTTP server always starts (dashboard_address=None
        # means its default port 8787, taken by any other cluster): a free port instead.
        # Dask's nannies set MALLOC_TRIM_THRESHOLD_ before a worker starts, and any set
        # value turns off glibc's adaptive mmap threshold: every large array (a video frame,
        # a batch of snapshots) is then mapped and zeroed anew. A chapter rendered under it
        # took 45 % longer (system time 1.0 s -> 5.9 s): our workers start without it.
        environ = {k: v for k, v in dask.config.get("distributed.nanny.pre-spawn-environ",
                                                    default={}).items()
                   if k != "MALLOC_TRIM_THRESHOLD_"}
        with (
            dask.config.set({"distributed.nanny.pre-spawn-environ": environ}),
            LocalCluster(
                n_workers=workers,
                threads_per_worker=threads_per_worker,
                processes=True,
                dashboard_address=":0",
                **kwargs,
            ) as cluster,
            Client(cluster) as c,
        ):
            yield c
        return

    address = str(scheduler).strip()
    if not address:
        raise GeomcoreError("--scheduler needs an address such as tcp://host:8786, got ''")
    try:
        c = Client(address, timeout=CONNECT_TIMEOUT_S)
    except ValueError as exc:
        raise GeomcoreError(
            f"--scheduler {address!r} is not a scheduler address ({exc}); "
            "expected e.g. tcp://host:8786"
        ) from None
    except (OSError, TimeoutError) as exc:
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise GeomcoreError(
            f"the Dask scheduler at {address!r} did not answer within "
            f"{CONNECT_TIMEOUT_S:g} s ({reason}); start one with `dask scheduler` "
            "or leave out --scheduler to use this machine"
        ) from None
    try:
        yield c
    finally:
        c.close()
