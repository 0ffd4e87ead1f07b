"""Keeping freed memory in the process, which makes CPU training steps about 20% faster."""

from __future__ import annotations

import ctypes
import platform

# mallopt(3) parameters of glibc's malloc.
_M_TRIM_THRESHOLD = -1
_M_MMAP_MAX = -4
# Free memory at the top of the heap beyond this is returned to the OS: in effect never.
_NEVER_TRIM = 2**30


def keep_freed_memory() -> bool:
    """Ask glibc's malloc to reuse freed memory instead of returning it to the OS.

    Every training step allocates and frees the same large activation buffers (tens of
    MB). By default glibc serves such blocks with mmap and unmaps them when freed, or trims
    them off the heap, and the next step faults every page back in: for the default model on
    two CPU cores that was a million page faults a minute and a fifth of the step time.
    Serving all blocks from the heap and never trimming it removes that cost; the process's
    memory then stays at its peak, which suits a training run. It affects the whole process.

    Returns:
        True when the setting took effect; False where the C library is not glibc.
    """
    if platform.system() != "Linux" or platform.libc_ver()[0] != "glibc":
        return False
    try:
        mallopt = ctypes.CDLL("libc.so.6").mallopt
    except (OSError, AttributeError):
        return False
    return mallopt(_M_MMAP_MAX, 0) == 1 and mallopt(_M_TRIM_THRESHOLD, _NEVER_TRIM) == 1
