"""shoal: coordinate swarms of agents.

* who is alive — :class:`Node` (gossip membership over UDP, routing over TCP);
* who owns what — :class:`Ring` (consistent hashing) and :class:`PartitionTable`;
* moving bytes without copying — :class:`Bus` (shared memory on one host) and
  :class:`Router` (to a key's owner, on this host or another).

The same keys get the same owners in Rust, Python, Node and the browser. Errors are
:mod:`shoal.errors` exceptions, which also subclass the matching built-ins.
"""

from . import errors
from ._aio import EventStream
from ._native import (
    Bus,
    Destination,
    Event,
    Events,
    Member,
    Node,
    Router,
    BusStats,
    Loan,
    Message,
    MigrationPlan,
    NodeInfo,
    PartitionTable,
    Publisher,
    ReclaimReport,
    Receiver,
    Ring,
    Sender,
    SimReport,
    TableStats,
    __version__,
    key_hash,
    simulate,
    splitmix64,
)
from .errors import (
    BusError,
    BusExistsError,
    BusFullError,
    BusNotFoundError,
    EmptyError,
    EndpointGoneError,
    InvalidArgumentError,
    NetError,
    NoCapacityError,
    ShoalError,
    SnapshotError,
    TimeoutError,
    UnknownNodeError,
)

__all__ = [
    "__version__",
    "errors",
    "key_hash",
    "splitmix64",
    "Ring",
    "NodeInfo",
    "MigrationPlan",
    "PartitionTable",
    "TableStats",
    "simulate",
    "SimReport",
    "Node",
    "Member",
    "Event",
    "Events",
    "EventStream",
    "Router",
    "Destination",
    "Bus",
    "BusStats",
    "ReclaimReport",
    "Sender",
    "Receiver",
    "Publisher",
    "Loan",
    "Message",
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
