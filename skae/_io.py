"""Torch-free file helpers shared by model files and training checkpoints."""

import os
import secrets


def atomic_write(path, write):
    """Write a file so that ``path`` is either the old file or the whole new one.

    ``write(f)`` writes into a temporary file in the same folder, which is
    flushed, ``fsync``-ed and renamed onto ``path`` (an atomic replace on
    POSIX and Windows); the folder is ``fsync``-ed too where the system
    allows. A failure (or a kill) half-way leaves ``path`` untouched and the
    temporary file is removed when Python still runs.
    """
    path = os.fspath(path)
    folder = os.path.dirname(os.path.abspath(path))
    tmp = os.path.join(folder, f".{os.path.basename(path)}.{secrets.token_hex(4)}.tmp")
    # O_EXCL: never write through someone else's file; 0o666: the umask decides
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0),
                 0o666)
    try:
        with open(fd, "wb") as f:
            write(f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.remove(tmp)
        except OSError:
            pass
        raise
    if hasattr(os, "O_DIRECTORY"):  # make the rename itself durable (POSIX)
        try:
            dir_fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
            try:
                os.fsync(dir_fd)
            finally:
                os.close(dir_fd)
        except OSError:
            pass  # some file systems cannot sync a folder; the file is in place
