//! `PartitionTable`: the fixed-partition table every member computes identically.

use pyo3::prelude::*;
use pyo3::types::{PyDict, PyString, PyTuple};
use shoal_core::{NodeSpec, PartitionMode, TableConfig, TableSnapshot};

use crate::errors::{core_err, invalid, Kind};
use crate::keys::with_key;

/// `(partition, from, to)` of `PartitionTable.diff`.
type PartitionChange = (u32, Option<String>, Option<String>);

/// A fixed-partition routing table: `partitions` partitions, each owned by the
/// member whose claim is the nearest at or before it.
#[pyclass(module = "shoal._native")]
pub struct PartitionTable {
    inner: shoal_core::PartitionTable,
}

/// Balance and collision figures of a table.
#[pyclass(module = "shoal._native", frozen, get_all)]
pub struct TableStats {
    /// Partition count.
    partitions: u32,
    /// Partitions owned per member id.
    counts: Py<PyDict>,
    /// Mean partitions per member.
    mean: f64,
    /// Population variance of the counts.
    variance: f64,
    /// Standard deviation of the counts.
    stddev: f64,
    /// Coefficient of variation (stddev / mean).
    cv: f64,
    /// Largest count / mean.
    peak_to_mean: f64,
    /// The best achievable peak / mean for equal weights, ⌈P/n⌉ / (P/n).
    ideal_peak_to_mean: f64,
    /// Total vnode claims.
    claims: u64,
    /// Claims that landed on an already-claimed partition (measured).
    collisions: u64,
    /// Predicted probability of at least one collision, 1 − (N/(N−x))^(N−x+½)/e^x.
    collision_probability: f64,
}

#[pymethods]
impl TableStats {
    fn __repr__(&self) -> String {
        format!(
            "TableStats(partitions={}, members={}, peak_to_mean={:.4}, cv={:.4}, collisions={})",
            self.partitions,
            Python::attach(|py| self.counts.bind(py).len()),
            self.peak_to_mean,
            self.cv,
            self.collisions
        )
    }
}

fn member_spec(m: &Bound<'_, PyAny>) -> PyResult<NodeSpec> {
    if let Ok(id) = m.cast::<PyString>() {
        return Ok(NodeSpec::new(id.to_str()?));
    }
    if let Ok(t) = m.cast::<PyTuple>() {
        if let Ok((id, weight)) = t.extract::<(String, f64)>() {
            return Ok(NodeSpec::new(id).weight(weight));
        }
    }
    Err(invalid(format!(
        "a member is an id (str) or an (id, weight) tuple, not {}",
        m.repr().map(|r| r.to_string()).unwrap_or_default()
    )))
}

fn member_specs(members: &Bound<'_, PyAny>) -> PyResult<Vec<NodeSpec>> {
    if members.cast::<PyString>().is_ok() {
        return Err(invalid("members must be a list of ids, not one string"));
    }
    let iter = members
        .try_iter()
        .map_err(|_| invalid("members must be an iterable of ids or (id, weight) tuples"))?;
    iter.map(|m| member_spec(&m?)).collect()
}

impl PartitionTable {
    /// The core table, for the router's placement.
    pub fn core(&self) -> &shoal_core::PartitionTable {
        &self.inner
    }
}

#[pymethods]
impl PartitionTable {
    /// The table for `members` (ids, or `(id, weight)` tuples; any order gives the
    /// same table). `mode`: `"classic"` (the source's scheme) or `"balanced"`
    /// (peak/mean near ⌈P/n⌉/(P/n), near-minimal movement).
    #[new]
    #[pyo3(signature = (members=None, partitions=4096, vnodes=10, mode="classic"))]
    fn new(
        members: Option<&Bound<'_, PyAny>>,
        partitions: u32,
        vnodes: u32,
        mode: &str,
    ) -> PyResult<Self> {
        let config = TableConfig {
            partitions,
            vnodes,
            mode: PartitionMode::parse(mode).map_err(core_err)?,
        };
        let specs = match members {
            Some(m) => member_specs(m)?,
            None => Vec::new(),
        };
        let inner = shoal_core::PartitionTable::new(config, specs).map_err(core_err)?;
        Ok(PartitionTable { inner })
    }

    /// Partition count.
    #[getter]
    fn partitions(&self) -> u32 {
        self.inner.partitions()
    }

    /// Claims per unit of weight.
    #[getter]
    fn vnodes(&self) -> u32 {
        self.inner.config().vnodes
    }

    /// `"classic"` or `"balanced"`.
    #[getter]
    fn mode(&self) -> &'static str {
        self.inner.config().mode.name()
    }

    /// Member ids, sorted.
    #[getter]
    fn members(&self) -> Vec<String> {
        self.inner.members().iter().map(|m| m.id.clone()).collect()
    }

    /// Adds a member (`id`, `weight`); the table is rebuilt.
    #[pyo3(signature = (id, weight=1.0))]
    fn add(&mut self, id: String, weight: f64) -> PyResult<()> {
        self.inner
            .add(NodeSpec::new(id).weight(weight))
            .map_err(core_err)
    }

    /// Removes a member; `UnknownNodeError` if absent.
    fn remove(&mut self, id: &str) -> PyResult<()> {
        self.inner.remove(id).map_err(core_err)
    }

    /// The partition a key falls in.
    fn partition_of(&self, key: &Bound<'_, PyAny>) -> PyResult<u32> {
        with_key(key, |k| self.inner.partition_of(k))
    }

    /// The owner of partition `p`, or `None` if the table has no members;
    /// `InvalidArgumentError` if `p` is not below `partitions`.
    fn owner(&self, p: u32) -> PyResult<Option<String>> {
        Ok(self.inner.owner(p).map_err(core_err)?.map(String::from))
    }

    /// The owner of `key`, or `None` if the table has no members.
    fn locate(&self, key: &Bound<'_, PyAny>) -> PyResult<Option<String>> {
        with_key(key, |k| self.inner.locate(k).map(String::from))
    }

    /// The owner of a key hash (`shoal.key_hash(key)`), or `None` if empty.
    fn locate_hash(&self, hash: u64) -> Option<String> {
        self.inner.locate_hash(hash).map(String::from)
    }

    /// The owner of every partition, as member ids (`None` when empty).
    fn owners(&self) -> Vec<Option<String>> {
        let members = self.inner.members();
        self.inner
            .owners()
            .iter()
            .map(|&i| members.get(i as usize).map(|m| m.id.clone()))
            .collect()
    }

    /// A 64-bit digest: members with equal tables have equal digests.
    fn digest(&self) -> u64 {
        self.inner.digest()
    }

    /// Partitions whose owner differs in `other`: `(partition, from, to)`.
    /// `InvalidArgumentError` if the partition counts differ.
    fn diff(&self, other: PyRef<'_, PartitionTable>) -> PyResult<Vec<PartitionChange>> {
        let moves = self.inner.diff(&other.inner).map_err(core_err)?;
        Ok(moves
            .into_iter()
            .map(|m| {
                (
                    m.partition,
                    m.from.map(String::from),
                    m.to.map(String::from),
                )
            })
            .collect())
    }

    /// Balance and collision statistics.
    fn stats(&self, py: Python<'_>) -> PyResult<TableStats> {
        let s = self.inner.stats();
        let counts = PyDict::new(py);
        for (m, c) in self.inner.members().iter().zip(&s.counts) {
            counts.set_item(&m.id, c)?;
        }
        Ok(TableStats {
            partitions: s.partitions,
            counts: counts.unbind(),
            mean: s.mean,
            variance: s.variance,
            stddev: s.stddev,
            cv: s.cv,
            peak_to_mean: s.peak_to_mean,
            ideal_peak_to_mean: s.ideal_peak_to_mean,
            claims: s.claims,
            collisions: s.collisions,
            collision_probability: s.collision_probability,
        })
    }

    /// The table as versioned JSON; see `from_snapshot`.
    fn snapshot(&self) -> String {
        serde_json::to_string(&self.inner.snapshot()).unwrap_or_default()
    }

    /// Rebuilds a table from `snapshot()` output (the digest is checked).
    #[staticmethod]
    fn from_snapshot(snapshot: &str) -> PyResult<PartitionTable> {
        let s: TableSnapshot = serde_json::from_str(snapshot)
            .map_err(|e| Kind::Snapshot.err(format!("table snapshot does not decode: {e}")))?;
        let inner = shoal_core::PartitionTable::from_snapshot(&s).map_err(core_err)?;
        Ok(PartitionTable { inner })
    }

    /// Pickling (for multiprocessing): through the JSON snapshot.
    fn __reduce__<'py>(slf: &Bound<'py, Self>) -> PyResult<(Bound<'py, PyAny>, (String,))> {
        let from = slf.get_type().getattr("from_snapshot")?;
        Ok((from, (slf.borrow().snapshot(),)))
    }

    fn __len__(&self) -> usize {
        self.inner.members().len()
    }

    fn __contains__(&self, id: &str) -> bool {
        self.inner.index_of(id).is_some()
    }

    fn __repr__(&self) -> String {
        format!(
            "PartitionTable(partitions={}, vnodes={}, mode={:?}, members={})",
            self.inner.partitions(),
            self.inner.config().vnodes,
            self.mode(),
            self.inner.members().len()
        )
    }
}

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<PartitionTable>()?;
    m.add_class::<TableStats>()?;
    Ok(())
}
