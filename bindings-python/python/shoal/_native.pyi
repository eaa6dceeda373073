"""Type stubs of the compiled module ``shoal._native`` (checked by mypy stubtest)."""

from collections.abc import Iterable, Mapping, Sequence

from ._aio import EventStream
from typing import Any, Literal, Self, final

import numpy as np
import numpy.typing as npt

__version__: str
__all__ = [
    "Destination",
    "Event",
    "Events",
    "Member",
    "Node",
    "Router",
    "Bus",
    "BusStats",
    "Loan",
    "Message",
    "Publisher",
    "ReclaimReport",
    "Receiver",
    "Sender",
    "MigrationPlan",
    "NodeInfo",
    "PartitionTable",
    "Ring",
    "SimReport",
    "TableStats",
    "__version__",
    "key_hash",
    "simulate",
    "splitmix64",
]

def key_hash(key: str | bytes | bytearray | memoryview) -> int:
    """The pinned XXH3-64 hash of a key: its position on an xxh3 ring."""

def splitmix64(i: int) -> int:
    """SplitMix64 of ``i``: the shared vectors' key generator."""

_Key = str | bytes | bytearray | memoryview
_PerNode = Mapping[str, float] | Sequence[float]

@final
class NodeInfo:
    """One node of a ring."""

    @property
    def id(self) -> str: ...
    @property
    def weight(self) -> float: ...
    @property
    def vnodes(self) -> int: ...
    @property
    def points(self) -> int: ...
    @property
    def zone(self) -> str | None: ...

@final
class MigrationPlan:
    """The hash ranges that change owner between two rings."""

    @property
    def moves(self) -> list[tuple[int, int, str, str]]: ...
    @property
    def fraction_moved(self) -> float: ...
    def fraction_between(self, from_node: str | None = None, to_node: str | None = None) -> float:
        """Fraction of the hash space moving from ``from_node`` to ``to_node`` (None: any)."""
    def __len__(self) -> int: ...

@final
class Ring:
    """A consistent-hash ring of weighted nodes."""

    def __new__(cls, vnodes: int | None = None, hash: str = "xxh3") -> Ring: ...
    @property
    def hash(self) -> str: ...
    @property
    def vnodes(self) -> int: ...
    @property
    def nodes(self) -> list[str]: ...
    @property
    def point_count(self) -> int: ...
    def add(
        self, id: str, weight: float = 1.0, *, vnodes: int | None = None, zone: str | None = None
    ) -> None:
        """Adds a node."""
    def remove(self, id: str) -> None:
        """Removes a node."""
    def set_weight(self, id: str, weight: float) -> None:
        """Changes a node's weight."""
    def node(self, id: str) -> NodeInfo:
        """The node with this id."""
    def key_hash(self, key: _Key) -> int:
        """The ring position of a key."""
    def locate(self, key: _Key) -> str | None:
        """The owner of ``key``, or None when the ring is empty."""
    def locate_hash(self, position: int) -> str | None:
        """The owner of a ring position."""
    def locate_n(self, key: _Key, n: int, *, distinct_zones: bool = False) -> list[str]:
        """Up to ``n`` distinct owners of ``key``, primary first."""
    def locate_many(self, keys: Iterable[_Key] | npt.NDArray[np.uint64] | Any) -> Any:
        """Owners of many keys: a list for keys, a uint32 index array for uint64 hashes."""
    def locate_bounded(self, key: _Key, loads: _PerNode, epsilon: float = 0.25) -> str:
        """Bounded-load lookup given the current per-node loads."""
    def suggest_weights(
        self, loads: _PerNode, targets: _PerNode | None = None, damping: float = 1.0
    ) -> dict[str, float]:
        """Weights that move the observed loads toward the targets."""
    def ownership(self) -> dict[str, float]:
        """Each node's share of the hash space."""
    def diff(self, other: Ring) -> MigrationPlan:
        """The migration plan from this ring to ``other``."""
    def layout_digest(self) -> int:
        """A digest of the layout."""
    def snapshot(self) -> str:
        """The ring as versioned JSON."""
    @staticmethod
    def from_snapshot(snapshot: str) -> Ring:
        """Rebuilds a ring from ``snapshot()`` output."""
    def copy(self) -> Ring:
        """A copy of the ring."""
    def __copy__(self) -> Ring: ...
    def __deepcopy__(self, memo: Any, /) -> Ring: ...
    def __reduce__(self) -> tuple[Any, tuple[str]]: ...
    def __len__(self) -> int: ...
    def __contains__(self, id: str, /) -> bool: ...

@final
class TableStats:
    """Balance and collision figures of a partition table."""

    @property
    def partitions(self) -> int: ...
    @property
    def counts(self) -> dict[str, int]: ...
    @property
    def mean(self) -> float: ...
    @property
    def variance(self) -> float: ...
    @property
    def stddev(self) -> float: ...
    @property
    def cv(self) -> float: ...
    @property
    def peak_to_mean(self) -> float: ...
    @property
    def ideal_peak_to_mean(self) -> float: ...
    @property
    def claims(self) -> int: ...
    @property
    def collisions(self) -> int: ...
    @property
    def collision_probability(self) -> float: ...

@final
class PartitionTable:
    """A fixed-partition routing table."""

    def __new__(
        cls,
        members: Iterable[str | tuple[str, float]] | None = None,
        partitions: int = 4096,
        vnodes: int = 10,
        mode: str = "classic",
    ) -> PartitionTable: ...
    @property
    def partitions(self) -> int: ...
    @property
    def vnodes(self) -> int: ...
    @property
    def mode(self) -> str: ...
    @property
    def members(self) -> list[str]: ...
    def add(self, id: str, weight: float = 1.0) -> None:
        """Adds a member."""
    def remove(self, id: str) -> None:
        """Removes a member."""
    def partition_of(self, key: _Key) -> int:
        """The partition a key falls in."""
    def owner(self, p: int) -> str | None:
        """The owner of partition ``p``."""
    def locate(self, key: _Key) -> str | None:
        """The owner of ``key``."""
    def locate_hash(self, hash: int) -> str | None:
        """The owner of a key hash."""
    def owners(self) -> list[str | None]:
        """The owner of every partition."""
    def digest(self) -> int:
        """A digest of the table."""
    def diff(self, other: PartitionTable) -> list[tuple[int, str | None, str | None]]:
        """Partitions whose owner differs in ``other``."""
    def stats(self) -> TableStats:
        """Balance and collision statistics."""
    def snapshot(self) -> str:
        """The table as versioned JSON."""
    @staticmethod
    def from_snapshot(snapshot: str) -> PartitionTable:
        """Rebuilds a table from ``snapshot()`` output."""
    def __reduce__(self) -> tuple[Any, tuple[str]]: ...
    def __len__(self) -> int: ...
    def __contains__(self, id: str, /) -> bool: ...

@final
class SimReport:
    """What a simulation run measured (seconds of simulated time)."""

    @property
    def protocol(self) -> str: ...
    @property
    def scenario(self) -> str: ...
    @property
    def nodes(self) -> int: ...
    @property
    def fanout(self) -> int: ...
    @property
    def loss(self) -> float: ...
    @property
    def seed(self) -> int: ...
    @property
    def round(self) -> float: ...
    @property
    def converged(self) -> dict[str, float | None]: ...
    @property
    def detection_first(self) -> float | None: ...
    @property
    def detection(self) -> dict[str, float | None]: ...
    @property
    def detection_times(self) -> list[float]: ...
    @property
    def false_failures(self) -> int: ...
    @property
    def msgs_per_member_sec(self) -> float: ...
    @property
    def bytes_per_member_sec(self) -> float: ...
    @property
    def lost(self) -> int: ...
    @property
    def delivered(self) -> int: ...
    @property
    def simulated(self) -> float: ...

def simulate(
    nodes: int,
    scenario: str = "join",
    *,
    protocol: str = "shoal",
    seed: int = 1,
    loss: float = 0.0,
    latency_ms: tuple[float, float] = ...,  # (10.0, 50.0)
    fanout: int = 3,
    duration: float = 120.0,
    warmup: float = 5.0,
    partition: float = 30.0,
    churn_interval: float = 5.0,
    stagger: float = 0.0,
    authenticate: bool = False,
) -> SimReport:
    """Runs a deterministic gossip simulation."""

_Backpressure = Literal["block", "error", "drop_oldest"]
_Wait = Literal["spin_then_park", "spin", "park"]

@final
class Bus:
    """A handle on a named shared-memory bus; the last process to leave removes it."""

    @staticmethod
    def create(
        name: str,
        *,
        lane_capacity: int | None = None,
        max_processes: int | None = None,
        max_endpoints: int | None = None,
        max_lanes: int | None = None,
        held_per_process: int | None = None,
        pool: Literal["standard", "small"] = "standard",
    ) -> Bus:
        """Creates bus ``name``; BusExistsError if it has live users."""
    @staticmethod
    def open(name: str) -> Bus:
        """Opens existing bus ``name`` (BusNotFoundError if none)."""
    @property
    def name(self) -> str: ...
    @property
    def closed(self) -> bool: ...
    def endpoint(
        self,
        name: str,
        *,
        backpressure: _Backpressure = "block",
        wait: _Wait = "spin_then_park",
        spins: int | None = None,
    ) -> Receiver:
        """Becomes the consumer of endpoint ``name``."""
    def sender(self, endpoint: str, *, timeout: float | None = 0.0) -> Sender:
        """A sender to ``endpoint``; waits up to ``timeout`` s for it to exist."""
    def subscribe(
        self,
        topic: str,
        *,
        backpressure: _Backpressure = "block",
        wait: _Wait = "spin_then_park",
        spins: int | None = None,
    ) -> Receiver:
        """Subscribes to ``topic``."""
    def publisher(self, topic: str) -> Publisher:
        """A publisher to ``topic``."""
    def loan(self, n: int) -> memoryview:
        """A writable view of n bytes of shared memory."""
    def stats(self) -> BusStats:
        """Occupancy and counters of the bus."""
    def reclaim(self) -> ReclaimReport:
        """Runs crash repair now if an attached process has died."""
    def close(self) -> None:
        """Makes this handle refuse further use."""
    def __enter__(self) -> Self: ...
    def __exit__(self, *exc: object) -> bool: ...

@final
class Sender:
    """Sends to one endpoint through a lane of its own."""

    @property
    def endpoint(self) -> str: ...
    @property
    def closed(self) -> bool: ...
    def loan(self, n: int) -> memoryview:
        """A writable view of exactly n bytes of shared memory."""
    def send(self, view: memoryview | Loan, length: int | None = None) -> None:
        """Sends a loaned view without copying and releases it."""
    def send_copy(self, data: bytes | bytearray | memoryview) -> None:
        """Sends a copy of any bytes-like object."""
    def send_batched(self, data: bytes | bytearray | memoryview) -> None:
        """Queues a copy of a small message in the current batch."""
    def flush(self) -> None:
        """Sends the pending batch now."""
    def close(self) -> None:
        """Closes the sender and its lane."""
    def __enter__(self) -> Self: ...
    def __exit__(self, *exc: object) -> bool: ...

@final
class Receiver:
    """Consumer of an endpoint or a topic subscription."""

    @property
    def name(self) -> str: ...
    @property
    def subscription(self) -> bool: ...
    @property
    def closed(self) -> bool: ...
    def recv(self, timeout: float | None = None) -> memoryview:
        """Waits for the next message (a read-only view of shared memory)."""
    def try_recv(self) -> memoryview | None:
        """The next message if one is waiting, else None."""
    def close(self) -> None:
        """Closes the endpoint."""
    def __iter__(self) -> Self: ...
    def __next__(self) -> memoryview: ...
    def __enter__(self) -> Self: ...
    def __exit__(self, *exc: object) -> bool: ...

@final
class Publisher:
    """Publishes to a topic: written once, read by every subscriber."""

    @property
    def topic(self) -> str: ...
    @property
    def closed(self) -> bool: ...
    def subscriber_count(self) -> int:
        """Current subscribers of the topic."""
    def loan(self, n: int) -> memoryview:
        """A writable view of n bytes of shared memory."""
    def publish(self, view: memoryview | Loan, length: int | None = None) -> int:
        """Publishes a loaned view without copying; returns the subscribers reached."""
    def publish_copy(self, data: bytes | bytearray | memoryview) -> int:
        """Publishes a copy; returns the subscribers reached."""
    def close(self) -> None:
        """Closes the publisher and its lanes."""
    def __enter__(self) -> Self: ...
    def __exit__(self, *exc: object) -> bool: ...

@final
class Loan:
    """The shared-memory buffer behind a loan's writable memoryview (its ``.obj``)."""

    @property
    def offset(self) -> int: ...
    @property
    def capacity(self) -> int: ...
    @property
    def sent(self) -> bool: ...
    def __len__(self) -> int: ...

@final
class Message:
    """The received bytes behind a read-only memoryview (its ``.obj``)."""

    @property
    def offset(self) -> int: ...
    @property
    def batched(self) -> bool: ...
    def __len__(self) -> int: ...

@final
class BusStats:
    """A snapshot of a bus's occupancy and counters."""

    @property
    def processes(self) -> int: ...
    @property
    def endpoints(self) -> int: ...
    @property
    def lanes(self) -> int: ...
    @property
    def corrupt(self) -> int: ...
    @property
    def reclaimed(self) -> int: ...
    @property
    def dropped(self) -> int: ...
    @property
    def repairs(self) -> int: ...
    @property
    def total_slots(self) -> int: ...
    @property
    def allocated_slots(self) -> int: ...
    @property
    def total_slot_bytes(self) -> int: ...
    @property
    def allocated_slot_bytes(self) -> int: ...
    @property
    def requested_bytes(self) -> int: ...
    @property
    def utilization(self) -> float: ...
    @property
    def occupancy(self) -> float: ...
    @property
    def fragmentation(self) -> float: ...
    @property
    def classes(self) -> list[tuple[int, int, int, int]]: ...

@final
class ReclaimReport:
    """What one crash repair did."""

    @property
    def dead_processes(self) -> int: ...
    @property
    def reclaimed_slots(self) -> int: ...
    @property
    def refcounts_fixed(self) -> int: ...
    @property
    def endpoints_closed(self) -> int: ...
    @property
    def lanes_released(self) -> int: ...
    @property
    def large_unlinked(self) -> int: ...

@final
class Member:
    """A member of the cluster as one node sees it."""

    @property
    def id(self) -> str: ...
    @property
    def address(self) -> str: ...
    @property
    def status(self) -> str: ...
    @property
    def incarnation(self) -> int: ...
    @property
    def role(self) -> str: ...
    @property
    def weight(self) -> int: ...
    @property
    def zone(self) -> str | None: ...
    @property
    def live(self) -> bool:
        """Alive or suspect (still holds its keys)."""
    def __hash__(self) -> int: ...
    def __eq__(self, other: object, /) -> bool: ...

@final
class Event:
    """A change in a node's view of the cluster."""

    @property
    def kind(self) -> str: ...
    @property
    def member(self) -> Member: ...
    def __eq__(self, other: object, /) -> bool: ...

@final
class Events:
    """Membership events from now on; iteration ends once the node stops."""

    def next_event(self, timeout: float | None = None) -> Event | None:
        """Waits at most ``timeout`` seconds; None on timeout or once the node stopped."""
    def try_next(self) -> Event | None:
        """An event already waiting, or None."""
    @property
    def closed(self) -> bool: ...
    def __iter__(self) -> Self: ...
    def __next__(self) -> Event: ...
    def __aiter__(self) -> EventStream: ...

@final
class Node:
    """A cluster member: gossip over UDP, live placement, routed payloads over TCP."""

    @staticmethod
    def start(
        bind: str = "127.0.0.1:0",
        *,
        seeds: Iterable[str | tuple[str, int]] | None = None,
        id: str | None = None,
        advertise: str | tuple[str, int] | None = None,
        role: str = "",
        weight: int = 1,
        zone: str | None = None,
        label: str = "shoal",
        keys: Sequence[bytes | str] | None = None,
        encrypt: bool = False,
        placement: Literal["ring", "table"] = "ring",
        vnodes: int | None = None,
        hash: Literal["xxh3", "ketama"] = "xxh3",
        partitions: int = 4096,
        mode: Literal["classic", "balanced"] = "classic",
        protocol: Literal["lan", "fast"] = "lan",
    ) -> Node:
        """Binds, contacts the seeds and starts the protocol thread."""
    @property
    def id(self) -> str: ...
    @property
    def address(self) -> str: ...
    @property
    def local_address(self) -> str: ...
    @property
    def closed(self) -> bool: ...
    def members(self, live_only: bool = True) -> list[Member]:
        """Known members, sorted by id."""
    def local_member(self) -> Member:
        """This member's own record."""
    def locate(self, key: _Key) -> str | None:
        """The owner of ``key`` under the live placement."""
    def placement_digest(self) -> int:
        """Equal on members that place keys alike."""
    def membership_digest(self) -> int:
        """Equal on members with the same view."""
    def status(self) -> dict[str, int]:
        """Counters of the node."""
    def update_meta(
        self, *, role: str | None = None, weight: int | None = None, zone: str | None = None
    ) -> None:
        """Announces new metadata; placement follows."""
    def set_keys(self, keys: Sequence[bytes | str]) -> None:
        """Replaces the gossip keyring."""
    def events(self) -> Events:
        """A new subscription to membership events."""
    def events_async(self) -> EventStream:
        """The same, for ``async for``."""
    def serve_routes(self, bus: Bus, prefix: str = "") -> None:
        """Routed payloads for this member go to bus endpoint ``prefix + id``."""
    def stop_serving_routes(self) -> None:
        """Refuses routed payloads from now on (senders retry)."""
    def close(self) -> None:
        """Leaves gracefully and stops."""
    def leave(self) -> None:
        """Same as close()."""
    def __enter__(self) -> Self: ...
    def __exit__(self, _ty: object, _value: object, _tb: object, /) -> bool: ...

@final
class Destination:
    """Where a payload went."""

    @property
    def owner(self) -> str: ...
    @property
    def is_local(self) -> bool: ...
    def __eq__(self, other: object, /) -> bool: ...

@final
class Router:
    """Keyed payloads to their owner: its bus endpoint on this host, TCP elsewhere."""

    def __new__(
        cls,
        bus: Bus,
        node: Node | None = None,
        *,
        placement: Ring | PartitionTable | None = None,
        local: Sequence[str] | None = None,
        prefix: str = "",
        max_pending: int = 8192,
        retry_after: float = 1.0,
        send_timeout: float = 10.0,
        connect_timeout: float = 1.0,
    ) -> Router: ...
    def route(self, key: _Key, payload: bytes | bytearray | memoryview) -> Destination:
        """Sends ``payload`` to the owner of ``key``."""
    def destination(self, key: _Key) -> Destination | None:
        """Where ``key`` would go; None if nothing is placed."""
    def flush(self, timeout: float = 10.0) -> None:
        """Waits for every remote acknowledgement."""
    def stats(self) -> dict[str, int]:
        """Counters of the router (and its TCP transport)."""
    def add_local(self, id: str) -> None: ...
    def remove_local(self, id: str) -> bool: ...
    def is_local(self, id: str) -> bool: ...
    def endpoint_of(self, id: str) -> str: ...
    @property
    def node(self) -> Node | None: ...
