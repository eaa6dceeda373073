//! `Ring`: the weighted consistent-hash ring, with batch lookup over lists of keys
//! or buffers (numpy arrays) of key hashes.

use pyo3::buffer::PyBuffer;
use pyo3::ffi;
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyList, PyString};
use shoal_core::ring::HashScheme;
use shoal_core::{NodeSpec, RingSnapshot, ZonePolicy};

use crate::errors::{core_err, invalid, Kind};
use crate::keys::{key_bytes, with_key};

/// Batches smaller than this are looked up without releasing the GIL (releasing and
/// taking it back costs more than the lookups).
const DETACH_MIN: usize = 256;

/// A consistent-hash ring of weighted nodes (see the module docs of `shoal`).
#[pyclass(module = "shoal._native")]
pub struct Ring {
    inner: shoal_core::Ring,
    /// The node ids as Python strings, by node index: lookups return these objects
    /// instead of making a new string each time.
    names: Vec<Py<PyString>>,
}

/// One node of a ring: id, weight, points and zone.
#[pyclass(module = "shoal._native", frozen, get_all)]
pub struct NodeInfo {
    /// The node's id.
    id: String,
    /// Its relative capacity.
    weight: f64,
    /// Its vnodes (ketama: groups of four points).
    vnodes: u32,
    /// How many points it has on the ring.
    points: u32,
    /// Its failure domain, if any.
    zone: Option<String>,
}

#[pymethods]
impl NodeInfo {
    fn __repr__(&self) -> String {
        format!(
            "NodeInfo(id={:?}, weight={}, vnodes={}, zone={:?})",
            self.id, self.weight, self.vnodes, self.zone
        )
    }
}

/// The hash ranges that change owner between two rings.
#[pyclass(module = "shoal._native", frozen)]
pub struct MigrationPlan {
    /// `(start, end, from, to)`: positions `start < h <= end` (wrapping) move.
    moves: Vec<(u64, u64, String, String)>,
    fraction: f64,
}

#[pymethods]
impl MigrationPlan {
    /// The moved ranges in ring order, as `(start, end, from_node, to_node)`: ring
    /// positions `h` with `start < h <= end` (wrapping past 2**64 - 1 when
    /// `start >= end`) change owner from `from_node` to `to_node`.
    #[getter]
    fn moves(&self) -> Vec<(u64, u64, String, String)> {
        self.moves.clone()
    }

    /// Fraction of the hash space (so, in expectation, of keys) that moves.
    #[getter]
    fn fraction_moved(&self) -> f64 {
        self.fraction
    }

    /// Fraction of the hash space moving from `from_node` to `to_node` (`None`: any).
    #[pyo3(signature = (from_node=None, to_node=None))]
    fn fraction_between(&self, from_node: Option<&str>, to_node: Option<&str>) -> f64 {
        const SPACE: f64 = 18_446_744_073_709_551_616.0;
        self.moves
            .iter()
            .filter(|m| from_node.is_none_or(|f| f == m.2) && to_node.is_none_or(|t| t == m.3))
            .map(|m| match m.1.wrapping_sub(m.0) {
                0 => 1.0,
                len => len as f64 / SPACE,
            })
            .sum()
    }

    fn __len__(&self) -> usize {
        self.moves.len()
    }

    fn __repr__(&self) -> String {
        format!(
            "MigrationPlan(ranges={}, fraction_moved={:.6})",
            self.moves.len(),
            self.fraction
        )
    }
}

impl Ring {
    /// The core ring, for the router's placement.
    pub fn core(&self) -> &shoal_core::Ring {
        &self.inner
    }

    fn wrap(py: Python<'_>, inner: shoal_core::Ring) -> Ring {
        let mut ring = Ring {
            inner,
            names: Vec::new(),
        };
        ring.refresh_names(py);
        ring
    }

    fn refresh_names(&mut self, py: Python<'_>) {
        self.names = self
            .inner
            .nodes()
            .iter()
            .map(|n| PyString::new(py, n.id()).unbind())
            .collect();
    }

    fn name(&self, py: Python<'_>, index: u32) -> Py<PyString> {
        self.names[index as usize].clone_ref(py)
    }

    /// Per-node values from a dict (by id; missing ids are 0) or a sequence in node
    /// order.
    fn per_node<T>(&self, values: &Bound<'_, PyAny>, what: &str) -> PyResult<Vec<T>>
    where
        T: for<'a, 'py> FromPyObject<'a, 'py> + Default + Copy,
    {
        if let Ok(d) = values.cast::<PyDict>() {
            let mut out = vec![T::default(); self.inner.len()];
            for (k, v) in d.iter() {
                let id: String = k.extract()?;
                let i = self.inner.index_of(&id).ok_or_else(|| {
                    Kind::UnknownNode.err(format!("{what}: no node {id:?} on the ring"))
                })?;
                out[i] = v.extract().map_err(|_| {
                    invalid(format!("{what}: the value for {id:?} is not a number"))
                })?;
            }
            return Ok(out);
        }
        let out: Vec<T> = values.extract().map_err(|_| {
            invalid(format!(
                "{what} must be a dict of node id -> number or a sequence in node order"
            ))
        })?;
        if out.len() != self.inner.len() {
            return Err(invalid(format!(
                "{what}: {} values for {} nodes",
                out.len(),
                self.inner.len()
            )));
        }
        Ok(out)
    }
}

#[pymethods]
impl Ring {
    /// An empty ring. `vnodes`: points per unit of weight (xxh3; default 160) or per
    /// server before weighting (ketama; libketama uses 40). `hash`: `"xxh3"` or
    /// `"ketama"` (assigns keys exactly as libketama / uhashring / npm hashring).
    #[new]
    #[pyo3(signature = (vnodes=None, hash="xxh3"))]
    fn new(py: Python<'_>, vnodes: Option<u32>, hash: &str) -> PyResult<Self> {
        let scheme = HashScheme::parse(hash).map_err(core_err)?;
        let vnodes = vnodes.unwrap_or(scheme.default_vnodes());
        let inner = shoal_core::Ring::with_scheme(scheme, vnodes).map_err(core_err)?;
        Ok(Ring::wrap(py, inner))
    }

    /// The hash scheme, `"xxh3"` or `"ketama"`.
    #[getter]
    fn hash(&self) -> &'static str {
        self.inner.scheme().name()
    }

    /// Points per unit of weight.
    #[getter]
    fn vnodes(&self) -> u32 {
        self.inner.vnodes_per_weight()
    }

    /// The node ids, sorted (this order is the one node indices refer to).
    #[getter]
    fn nodes(&self, py: Python<'_>) -> Vec<Py<PyString>> {
        self.names.iter().map(|n| n.clone_ref(py)).collect()
    }

    /// Total number of points on the ring.
    #[getter]
    fn point_count(&self) -> usize {
        self.inner.point_count()
    }

    /// Adds a node. `weight`: relative capacity (points = round(weight * vnodes));
    /// `vnodes`: an explicit point count instead (xxh3 only), e.g. the source's
    /// 100/80/120/60 per agent type; `zone`: failure domain for distinct-zone replicas.
    #[pyo3(signature = (id, weight=1.0, *, vnodes=None, zone=None))]
    fn add(
        &mut self,
        py: Python<'_>,
        id: String,
        weight: f64,
        vnodes: Option<u32>,
        zone: Option<String>,
    ) -> PyResult<()> {
        let spec = NodeSpec {
            id,
            weight,
            vnodes,
            zone,
        };
        self.inner.add(spec).map_err(core_err)?;
        self.refresh_names(py);
        Ok(())
    }

    /// Removes a node; `UnknownNodeError` if there is none with this id.
    fn remove(&mut self, py: Python<'_>, id: &str) -> PyResult<()> {
        self.inner.remove(id).map_err(core_err)?;
        self.refresh_names(py);
        Ok(())
    }

    /// Changes a node's weight (its points are recomputed; only its keys move).
    fn set_weight(&mut self, id: &str, weight: f64) -> PyResult<()> {
        self.inner.set_weight(id, weight).map_err(core_err)
    }

    /// The node with this id; `UnknownNodeError` if there is none.
    fn node(&self, id: &str) -> PyResult<NodeInfo> {
        let n = self
            .inner
            .node(id)
            .ok_or_else(|| Kind::UnknownNode.err(format!("no node {id:?} on the ring")))?;
        Ok(NodeInfo {
            id: n.id().into(),
            weight: n.weight(),
            vnodes: n.vnodes(),
            points: match self.inner.scheme() {
                HashScheme::Xxh3 => n.vnodes(),
                HashScheme::Ketama => n.vnodes() * 4,
            },
            zone: n.zone().map(Into::into),
        })
    }

    /// The ring position of a key (its hash under this ring's scheme).
    fn key_hash(&self, key: &Bound<'_, PyAny>) -> PyResult<u64> {
        with_key(key, |k| self.inner.key_position(k))
    }

    /// The owner of `key` (str or bytes), or `None` when the ring is empty.
    fn locate(&self, py: Python<'_>, key: &Bound<'_, PyAny>) -> PyResult<Option<Py<PyString>>> {
        let position = with_key(key, |k| self.inner.key_position(k))?;
        Ok(self.inner.locate_index(position).map(|i| self.name(py, i)))
    }

    /// The owner of a ring position (a `key_hash`), or `None` when the ring is empty.
    fn locate_hash(&self, py: Python<'_>, position: u64) -> Option<Py<PyString>> {
        self.inner.locate_index(position).map(|i| self.name(py, i))
    }

    /// Up to `n` distinct owners of `key`, primary first; with `distinct_zones`, also
    /// in distinct zones (fewer when there are fewer nodes or zones).
    #[pyo3(signature = (key, n, *, distinct_zones=false))]
    fn locate_n(
        &self,
        key: &Bound<'_, PyAny>,
        n: usize,
        distinct_zones: bool,
    ) -> PyResult<Vec<String>> {
        let policy = if distinct_zones {
            ZonePolicy::Distinct
        } else {
            ZonePolicy::Any
        };
        with_key(key, |k| {
            self.inner
                .locate_n_with(k, n, policy)
                .into_iter()
                .map(String::from)
                .collect()
        })
    }

    /// Owners of many keys at once.
    ///
    /// * a list (or any iterable) of str/bytes keys → a list of owner ids;
    /// * a buffer of uint64 key hashes (a numpy `uint64` array, `array('Q')`) → a
    ///   numpy `uint32` array (an `array('I')` without numpy) of indices into
    ///   `ring.nodes`.
    ///
    /// The lookups run in Rust with the GIL released. `EmptyError` if the ring is
    /// empty.
    fn locate_many<'py>(
        &self,
        py: Python<'py>,
        keys: &Bound<'py, PyAny>,
    ) -> PyResult<Bound<'py, PyAny>> {
        if self.inner.is_empty() {
            return Err(Kind::Empty.err("the ring has no nodes"));
        }
        if let Ok(hashes) = PyBuffer::<u64>::get(keys) {
            return self.locate_many_hashes(py, &hashes).map(Bound::into_any);
        }
        if keys.cast::<PyString>().is_ok() || keys.cast::<pyo3::types::PyBytes>().is_ok() {
            return Err(invalid(
                "locate_many takes a list of keys or a uint64 array of hashes, not one key (use locate)",
            ));
        }
        self.locate_many_keys(py, keys).map(Bound::into_any)
    }

    /// Bounded-load lookup (consistent hashing with bounded loads): the first node
    /// clockwise whose load is below ⌈(1+epsilon) · mean⌉ (weighted). `loads`: current
    /// load per node, a dict by id or a sequence in `nodes` order. `NoCapacityError`
    /// if every node is full.
    #[pyo3(signature = (key, loads, epsilon=0.25))]
    fn locate_bounded(
        &self,
        py: Python<'_>,
        key: &Bound<'_, PyAny>,
        loads: &Bound<'_, PyAny>,
        epsilon: f64,
    ) -> PyResult<Py<PyString>> {
        if self.inner.is_empty() {
            return Err(Kind::Empty.err("the ring has no nodes"));
        }
        let loads: Vec<u64> = self.per_node(loads, "loads")?;
        let position = with_key(key, |k| self.inner.key_position(k))?;
        let i = self
            .inner
            .locate_bounded_index(position, &loads, epsilon)
            .map_err(core_err)?;
        Ok(self.name(py, i))
    }

    /// Suggested weights that move the observed `loads` toward `targets` (desired
    /// shares; `None`: equal). Both are dicts by id or sequences in `nodes` order.
    /// `damping` in (0, 1]: 1 corrects fully in one step. Returns {id: weight}.
    #[pyo3(signature = (loads, targets=None, damping=1.0))]
    fn suggest_weights<'py>(
        &self,
        py: Python<'py>,
        loads: &Bound<'_, PyAny>,
        targets: Option<&Bound<'_, PyAny>>,
        damping: f64,
    ) -> PyResult<Bound<'py, PyDict>> {
        if self.inner.is_empty() {
            return Err(Kind::Empty.err("the ring has no nodes"));
        }
        let loads: Vec<f64> = self.per_node(loads, "loads")?;
        let targets: Option<Vec<f64>> = targets.map(|t| self.per_node(t, "targets")).transpose()?;
        let weights = self
            .inner
            .suggest_weights(&loads, targets.as_deref(), damping)
            .map_err(core_err)?;
        by_node(py, &self.names, weights)
    }

    /// Each node's share of the hash space, {id: fraction}.
    fn ownership<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        by_node(py, &self.names, self.inner.ownership())
    }

    /// The migration plan from this ring to `other`: which hash ranges change owner.
    fn diff(&self, other: PyRef<'_, Ring>) -> PyResult<MigrationPlan> {
        let plan = self.inner.diff(&other.inner).map_err(core_err)?;
        Ok(MigrationPlan {
            fraction: plan.fraction_moved(),
            moves: plan
                .moves
                .iter()
                .map(|m| (m.start, m.end, m.from.to_string(), m.to.to_string()))
                .collect(),
        })
    }

    /// A 64-bit digest of the layout: equal rings have equal digests.
    fn layout_digest(&self) -> u64 {
        self.inner.layout_digest()
    }

    /// The ring as versioned JSON (nodes, weights, zones, scheme); see `from_snapshot`.
    fn snapshot(&self) -> String {
        // A snapshot is plain data: serializing it cannot fail.
        serde_json::to_string(&self.inner.snapshot()).unwrap_or_default()
    }

    /// Rebuilds a ring from `snapshot()` output. `SnapshotError` if it does not decode
    /// or describes an invalid ring.
    #[staticmethod]
    fn from_snapshot(py: Python<'_>, snapshot: &str) -> PyResult<Ring> {
        let s: RingSnapshot = serde_json::from_str(snapshot)
            .map_err(|e| Kind::Snapshot.err(format!("ring snapshot does not decode: {e}")))?;
        let inner = shoal_core::Ring::from_snapshot(&s).map_err(core_err)?;
        Ok(Ring::wrap(py, inner))
    }

    /// A copy of the ring.
    fn copy(&self, py: Python<'_>) -> Ring {
        Ring::wrap(py, self.inner.clone())
    }

    fn __copy__(&self, py: Python<'_>) -> Ring {
        self.copy(py)
    }

    fn __deepcopy__(&self, py: Python<'_>, _memo: &Bound<'_, PyAny>) -> Ring {
        self.copy(py)
    }

    /// Pickling (for multiprocessing): through the JSON snapshot.
    fn __reduce__<'py>(slf: &Bound<'py, Self>) -> PyResult<(Bound<'py, PyAny>, (String,))> {
        let from = slf.get_type().getattr("from_snapshot")?;
        Ok((from, (slf.borrow().snapshot(),)))
    }

    fn __len__(&self) -> usize {
        self.inner.len()
    }

    fn __contains__(&self, id: &str) -> bool {
        self.inner.index_of(id).is_some()
    }

    fn __repr__(&self) -> String {
        format!(
            "Ring(hash={:?}, vnodes={}, nodes={}, points={})",
            self.hash(),
            self.inner.vnodes_per_weight(),
            self.inner.len(),
            self.inner.point_count()
        )
    }
}

impl Ring {
    /// Owners of a list (or any iterable) of keys, as a list of the cached node-id
    /// strings. Chunked, so that no buffer grows with the batch (large temporary
    /// vectors cost page faults on every call); each chunk's lookups run without the
    /// GIL, the keys are read with it.
    fn locate_many_keys<'py>(
        &self,
        py: Python<'py>,
        keys: &Bound<'py, PyAny>,
    ) -> PyResult<Bound<'py, PyList>> {
        const CHUNK: usize = 2048;
        let list = match keys.cast::<PyList>() {
            Ok(l) => l.clone(),
            Err(_) => {
                let items = keys.try_iter().map_err(|_| {
                    invalid(format!(
                        "locate_many takes a list of keys or a uint64 array of hashes, not {}",
                        keys.get_type()
                            .name()
                            .map(|n| n.to_string())
                            .unwrap_or_default()
                    ))
                })?;
                PyList::new(py, items.collect::<PyResult<Vec<_>>>()?)?
            }
        };
        let ring = &self.inner;
        let n = list.len();
        let len = ffi::Py_ssize_t::try_from(n).map_err(|_| invalid("too many keys"))?;
        // SAFETY: PyList_New returns a new reference (or NULL with an exception set,
        // which `from_owned_ptr_or_err` turns into an error). Its slots start NULL;
        // a list dropped with NULL slots (an error below) is deallocated correctly.
        let out = unsafe { Bound::from_owned_ptr_or_err(py, ffi::PyList_New(len))? };
        let mut positions = [0u64; CHUNK];
        let mut owners = [0u32; CHUNK];
        let mut start = 0;
        while start < n {
            let m = CHUNK.min(n - start);
            for (j, p) in positions[..m].iter_mut().enumerate() {
                // Another thread may resize the list while a chunk's lookups run
                // without the GIL, so the length is checked again for every item.
                let i = start + j;
                if i >= list.len() {
                    return Err(invalid("the key list changed size during locate_many"));
                }
                prefetch_item(&list, i + PREFETCH_AHEAD);
                // SAFETY: the GIL is held and i < len was checked just now, with no
                // Python code run in between; get_item_unchecked takes a new reference.
                let key = unsafe { list.get_item_unchecked(i) };
                *p = position_of(ring, &key)?;
            }
            let chunk = &positions[..m];
            let owners = &mut owners[..m];
            if m >= DETACH_MIN {
                py.detach(|| ring.locate_many_hashes(chunk, owners))
            } else {
                ring.locate_many_hashes(chunk, owners)
            }
            .map_err(core_err)?;
            for (j, &o) in owners.iter().enumerate() {
                let name = self.names[o as usize].clone_ref(py).into_ptr();
                // SAFETY: `out` is a list of length n > start + j, and slot
                // start + j is still NULL; SET_ITEM steals the new reference.
                unsafe { ffi::PyList_SET_ITEM(out.as_ptr(), (start + j) as ffi::Py_ssize_t, name) };
            }
            start += m;
        }
        // SAFETY: every slot 0..n was set above (the loop covers 0..n or returned).
        Ok(unsafe { out.cast_into_unchecked::<PyList>() })
    }

    fn locate_many_hashes<'py>(
        &self,
        py: Python<'py>,
        hashes: &PyBuffer<u64>,
    ) -> PyResult<Bound<'py, PyAny>> {
        if !hashes.is_c_contiguous() || hashes.dimensions() != 1 {
            return Err(invalid(
                "locate_many: the hash array must be one-dimensional and contiguous",
            ));
        }
        let n = hashes.item_count();
        let out = new_u32_array(py, n)?;
        let out_buf = PyBuffer::<u32>::get(&out)?;
        if out_buf.readonly() || out_buf.item_count() != n || !out_buf.is_c_contiguous() {
            return Err(invalid("locate_many: could not make a uint32 result array"));
        }
        let src = hashes.buf_ptr() as usize;
        let dst = out_buf.buf_ptr() as usize;
        let ring = &self.inner;
        let run = move || {
            // SAFETY: both buffers are held (exported) until `hashes` and `out_buf`
            // drop after this call, so their memory stays allocated and sized `n`
            // items; they are distinct objects (the output is new), so the slices do
            // not alias. Another thread writing the input array meanwhile could at
            // worst change which owners we compute, as with any numpy operation that
            // releases the GIL.
            let (positions, owners) = unsafe {
                (
                    std::slice::from_raw_parts(src as *const u64, n),
                    std::slice::from_raw_parts_mut(dst as *mut u32, n),
                )
            };
            ring.locate_many_hashes(positions, owners)
        };
        if n >= DETACH_MIN {
            py.detach(run)
        } else {
            run()
        }
        .map_err(core_err)?;
        Ok(out)
    }
}

/// `{node id: value}` in node order.
fn by_node<'py>(
    py: Python<'py>,
    names: &[Py<PyString>],
    values: Vec<f64>,
) -> PyResult<Bound<'py, PyDict>> {
    let d = PyDict::new(py);
    for (name, v) in names.iter().zip(values) {
        d.set_item(name.bind(py), v)?;
    }
    Ok(d)
}

fn position_of(ring: &shoal_core::Ring, key: &Bound<'_, PyAny>) -> PyResult<u64> {
    if let Ok(s) = key.cast::<PyString>() {
        if let Some(ascii) = compact_ascii(s) {
            return Ok(ring.key_position(ascii));
        }
        return Ok(ring.key_position(s.to_str()?.as_bytes()));
    }
    Ok(ring.key_position(&key_bytes(key)?))
}

/// How many list items ahead `locate_many` asks the CPU to load: the key objects of a
/// large list are scattered over the heap, and reading each header is a cache miss.
const PREFETCH_AHEAD: usize = 16;

/// Hints the CPU to load the object at `list[i]` (its header and, for a short str, its
/// characters). Only a hint: nothing is read here, and an index past the end does
/// nothing.
#[inline(always)]
fn prefetch_item(list: &Bound<'_, PyList>, i: usize) {
    #[cfg(target_arch = "x86_64")]
    if i < list.len() {
        // SAFETY: i < len with the GIL held: the slot holds a valid object pointer,
        // which is only passed to the prefetch hint (never dereferenced here).
        unsafe {
            let item = ffi::PyList_GET_ITEM(list.as_ptr(), i as ffi::Py_ssize_t);
            use std::arch::x86_64::{_mm_prefetch, _MM_HINT_T0};
            _mm_prefetch::<_MM_HINT_T0>(item as *const i8);
            _mm_prefetch::<_MM_HINT_T0>((item as *const i8).wrapping_add(64));
        }
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = (list, i);
}

/// The bytes of an ASCII `str` read in place (an ASCII string is its own UTF-8),
/// without the C API call `to_str` makes; `None` for other strings.
fn compact_ascii<'a>(s: &'a Bound<'_, PyString>) -> Option<&'a [u8]> {
    let op = s.as_ptr();
    // SAFETY: `op` is a live str (the borrow of `s` keeps it alive for 'a); for a
    // compact ASCII string CPython stores `length` bytes right after the header,
    // immutable for the object's life, and these accessors only read the header.
    unsafe {
        if ffi::PyUnicode_IS_COMPACT_ASCII(op) == 0 {
            return None;
        }
        let len = usize::try_from(ffi::PyUnicode_GET_LENGTH(op)).ok()?;
        Some(std::slice::from_raw_parts(
            ffi::PyUnicode_DATA(op) as *const u8,
            len,
        ))
    }
}

/// A new zeroed uint32 array of `n` items: numpy's if numpy is installed, else
/// `array.array('I')`.
fn new_u32_array(py: Python<'_>, n: usize) -> PyResult<Bound<'_, PyAny>> {
    match py.import("numpy") {
        Ok(np) => np.call_method1("zeros", (n, np.getattr("uint32")?)),
        Err(_) => {
            let zeros = pyo3::types::PyBytes::new(py, &vec![0u8; n * 4]);
            py.import("array")?.call_method1("array", ("I", zeros))
        }
    }
}

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<Ring>()?;
    m.add_class::<NodeInfo>()?;
    m.add_class::<MigrationPlan>()?;
    Ok(())
}
