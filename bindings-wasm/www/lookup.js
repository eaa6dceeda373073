// The key lookup box: owner and replicas (locateN(key, 3)) of a key under the current
// algorithm, plus what else that algorithm knows about the key (hash, partition, the
// bounded-load owner for sample keys).

export class LookupBox {
  /** `context()` returns {placement, algo, samples, boundedOwner(i) → id|null}. */
  constructor(el, palette, context, errors) {
    this.el = el;
    this.palette = palette;
    this.context = context;
    this.errors = errors;
    el.form.addEventListener('submit', (ev) => {
      ev.preventDefault();
      this.run();
    });
    el.zones.addEventListener('change', () => this.run());
  }

  swatch(id) {
    const s = document.createElement('span');
    s.className = 'swatch';
    s.style.background = this.palette.color(id);
    const wrap = document.createElement('span');
    wrap.className = 'node-ref';
    wrap.append(s, document.createTextNode(id));
    return wrap;
  }

  clear() {
    this.el.owner.replaceChildren();
    this.el.owner.dataset.owner = '';
    this.el.replicas.replaceChildren();
    this.el.replicas.dataset.replicas = '';
    this.el.detail.textContent = '';
  }

  run() {
    const key = this.el.input.value;
    if (key === '') {
      this.clear();
      return;
    }
    const { placement, algo, samples, boundedOwner } = this.context();
    this.clear();
    try {
      if (placement.nodes.length === 0) throw Object.assign(new Error('no nodes to look up in'), { code: 'ERR_SHOAL_EMPTY' });
      const details = [];
      let owner = placement.locate(key);
      if (algo.bounded) {
        const i = samples.indexOf(key);
        const b = i >= 0 ? boundedOwner(i) : null;
        if (b != null) {
          details.push(`bounded-load owner of sample key #${i} (ring owner ${owner})`);
          owner = b;
        } else {
          details.push('bounded-load placement depends on arrival order: shown is the plain ring owner (only sample keys have a bounded owner here)');
        }
      }
      this.el.owner.dataset.owner = owner;
      this.el.owner.append(this.swatch(owner));
      if (placement.hasReplicas) {
        const reps = placement.replicas(key, 3, this.el.zones.checked);
        this.el.replicas.dataset.replicas = JSON.stringify(reps);
        reps.forEach((id, i) => {
          if (i) this.el.replicas.append(' → ');
          this.el.replicas.append(this.swatch(id));
        });
        if (algo.bounded) details.push('replicas are the plain ring successors');
      } else {
        this.el.replicas.dataset.replicas = '';
        this.el.replicas.textContent = `${algo.label} has no replicas (locateN is a ring method)`;
      }
      if (placement.keyHash) details.push(`key hash ${placement.keyHash(key)} (${placement.hashName})`);
      if (placement.partitionOf) details.push(`partition ${placement.partitionOf(key)} of ${placement.partitions}`);
      this.el.detail.textContent = details.join(' · ');
    } catch (e) {
      this.errors.show(e, `lookup ${JSON.stringify(key)}`);
      this.el.detail.textContent = `error: ${e.message}`;
    }
  }
}
