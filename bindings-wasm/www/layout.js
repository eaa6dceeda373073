// Layouts as JSON, for the page's import/export box: {algorithm, vnodes, partitions,
// epsilon, nodes: [{id, weight, vnodes?, zone?}]}. `members` is read as `nodes`, so a
// case from tests/vectors/*.json can be pasted as it is (with an "algorithm" added).

function fail(msg) {
  const e = new TypeError(`layout: ${msg}`);
  e.code = 'ERR_SHOAL_INVALID_TYPE';
  return e;
}

export function parseLayout(input) {
  const obj = Array.isArray(input) ? { nodes: input } : input;
  if (!obj || typeof obj !== 'object') throw fail('expected an object or an array of nodes');
  const list = obj.nodes ?? obj.members;
  if (!Array.isArray(list)) throw fail('expected "nodes" (or "members"): an array');
  const nodes = list.map((n, i) => {
    if (typeof n === 'string') return { id: n, weight: 1 };
    if (!n || typeof n.id !== 'string') throw fail(`node ${i}: expected a string id`);
    const node = { id: n.id, weight: n.weight == null ? 1 : Number(n.weight) };
    if (n.vnodes != null) node.vnodes = Number(n.vnodes);
    if (n.zone != null) node.zone = String(n.zone);
    return node;
  });
  const num = (k) => (obj[k] == null ? null : Number(obj[k]));
  return { algorithm: obj.algorithm ?? null, vnodes: num('vnodes'), partitions: num('partitions'), epsilon: num('epsilon'), nodes };
}

export function layoutToJson(state, algo) {
  const out = { algorithm: state.algorithm };
  if (algo.vnodesKey) out.vnodes = state.vnodes[algo.vnodesKey];
  if (algo.kind === 'table') out.partitions = state.partitions;
  if (algo.bounded) out.epsilon = state.epsilon;
  out.nodes = state.nodes;
  return JSON.stringify(out, null, 1);
}
