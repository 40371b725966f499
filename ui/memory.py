"""Where Arrow allocates the pages' string columns: the C library's ``malloc``.

pandas 3 keeps text columns (crime type, LSOA code, street) as Arrow strings, allocated from
Arrow's default memory pool, mimalloc in the PyPI wheels. mimalloc hands freed memory back
to the system within milliseconds, so every interaction's selections and summaries
allocated it afresh, each first touch a page fault: on this machine 10-30 ms of system time
per selection of the 300,000-incident store. With the system's allocator, which keeps freed
memory for the next request, the page's thread spent 0.02 s instead of 0.06 s in the kernel
on the overview's month change, which took 0.32-0.33 s instead of 0.37-0.40 s (medians of
alternating runs; docs/performance.md), and the process's peak memory was no higher.
"""

from __future__ import annotations


def use_system_allocator() -> None:
    """Make the C library's ``malloc`` Arrow's default memory pool in this process.

    Called as the server imports :mod:`ui.cached` and as the compute process starts
    (:mod:`ui.compute_process`). Arrays allocated before keep their own pool; new ones use
    this one. Idempotent.
    """
    import pyarrow as pa

    pool = pa.system_memory_pool()
    if pa.default_memory_pool().backend_name != pool.backend_name:
        pa.set_memory_pool(pool)


def allocator() -> str:
    """The backend of Arrow's default memory pool in this process (``"system"`` once
    :func:`use_system_allocator` ran): a module-level function, so the compute process can
    be asked too."""
    import pyarrow as pa

    return pa.default_memory_pool().backend_name
