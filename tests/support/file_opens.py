"""How many times a file is opened, by any process, seen through Linux inotify: the engine
(Sail's server, a JVM) reads files outside Python, so only the kernel sees every open."""
from __future__ import annotations

import contextlib
import ctypes
import os
import struct
from pathlib import Path
from typing import Iterator

IN_OPEN, IN_CLOSE_NOWRITE, IN_NONBLOCK = 0x20, 0x10, 0o4000
EVENT = struct.Struct("iIII")  # wd, mask, cookie, length of the name that follows


@contextlib.contextmanager
def counted_opens(path: Path) -> Iterator[list[int]]:
    """Yields a list that holds, once the block ends, the opens of `path` during it. Closes are
    watched too: the kernel merges identical events in a row, and open, close, open are not."""
    libc = ctypes.CDLL("libc.so.6", use_errno=True)
    fd = libc.inotify_init1(IN_NONBLOCK)
    if fd < 0 or libc.inotify_add_watch(fd, str(path).encode(), IN_OPEN | IN_CLOSE_NOWRITE) < 0:
        raise OSError(ctypes.get_errno(), f"inotify on {path}")
    counted: list[int] = []
    try:
        yield counted
    finally:
        opens = 0
        with contextlib.suppress(BlockingIOError):
            while data := os.read(fd, 65536):
                offset = 0
                while offset < len(data):
                    _, mask, _, length = EVENT.unpack_from(data, offset)
                    offset += EVENT.size + length
                    opens += bool(mask & IN_OPEN)
        os.close(fd)
        counted.append(opens)
