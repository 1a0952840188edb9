"""Errors meant for users: one line that names the file, key, value or address at fault."""

import errno

# What a write fails with when the disk (or the user's quota, or ``ulimit -f``) has no room.
NO_ROOM = frozenset({errno.ENOSPC, errno.EDQUOT, errno.EFBIG})


class UserError(Exception):
    """Shown to the user as ``backrooms: error: <message>`` with exit code 2, never as a traceback."""


class NoRoom(UserError):
    """A file could not be written for want of space: what was written before it is kept, so the
    same command can finish the work once there is room (``render --resume``, ``train``)."""

    @classmethod
    def of(cls, path: object, exc: OSError) -> "NoRoom":
        return cls(f"{path}: cannot write ({exc.strerror or exc})")
