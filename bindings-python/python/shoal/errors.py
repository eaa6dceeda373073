"""Exceptions raised by shoal.

Every exception is a :class:`ShoalError` and also subclasses the built-in exception a
Python programmer would catch for that kind of failure, so ``except ValueError`` or
``except OSError`` keeps working:

====================  ===========================================  ==========================
class                 built-in bases                               raised when
====================  ===========================================  ==========================
InvalidArgumentError  ValueError                                   a weight, size, name or
                                                                   setting is out of range
UnknownNodeError      KeyError                                     no node/member has the id
EmptyError            LookupError                                  nothing is placed (no node)
NoCapacityError       RuntimeError                                 bounded-load: all nodes full
SnapshotError         ValueError                                   a snapshot does not decode
BusError              OSError                                      shared-memory bus failures
BusNotFoundError      BusError, FileNotFoundError                  no such bus or endpoint
BusExistsError        BusError, FileExistsError                    name taken
EndpointGoneError     BusError, BrokenPipeError                    the consumer went away
BusFullError          BusError, BlockingIOError                    lane full (policy "error")
NetError              OSError                                      sockets, the node stopped
TimeoutError          builtins.TimeoutError                        a wait timed out
====================  ===========================================  ==========================
"""

import builtins

__all__ = [
    "ShoalError",
    "InvalidArgumentError",
    "UnknownNodeError",
    "EmptyError",
    "NoCapacityError",
    "SnapshotError",
    "BusError",
    "BusNotFoundError",
    "BusExistsError",
    "EndpointGoneError",
    "BusFullError",
    "NetError",
    "TimeoutError",
]


class ShoalError(Exception):
    """Base class of every exception shoal raises."""


class InvalidArgumentError(ShoalError, ValueError):
    """An argument is out of range: a weight, a size, a name, a setting."""


class UnknownNodeError(ShoalError, KeyError):
    """No node (ring) or member (table) has this id."""

    def __str__(self) -> str:  # KeyError would quote the message
        return str(self.args[0]) if self.args else ""


class EmptyError(ShoalError, LookupError):
    """The operation needs at least one node and there is none."""


class NoCapacityError(ShoalError, RuntimeError):
    """Bounded-load lookup: every node is at its capacity."""


class SnapshotError(ShoalError, ValueError):
    """A snapshot has an unknown version or does not describe a valid structure."""


class BusError(ShoalError, OSError):
    """The shared-memory bus refused or failed (see the message)."""


class BusNotFoundError(BusError, FileNotFoundError):
    """No bus, endpoint or topic with this name exists."""


class BusExistsError(BusError, FileExistsError):
    """A bus with this name exists, or an endpoint already has a consumer."""


class EndpointGoneError(BusError, BrokenPipeError):
    """The consumer behind a sender closed its endpoint or died."""


class BusFullError(BusError, BlockingIOError):
    """The endpoint's lane is full and its backpressure policy is ``"error"``."""


class NetError(ShoalError, OSError):
    """A socket failed, a peer broke the protocol, or the node has stopped."""


class TimeoutError(ShoalError, builtins.TimeoutError):  # noqa: A001 - deliberate
    """Waited too long: no message, no event or no acknowledgement in time."""
