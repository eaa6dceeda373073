// Shows errors to the user: every failed WASM call (duplicate id, bad weight, …) and any
// uncaught error ends up as a line in the page's error box with its `code`, never only
// in the console.

export function describeError(e) {
  if (e == null) return { code: '', message: 'unknown error' };
  if (typeof e === 'string') return { code: '', message: e };
  const code = typeof e.code === 'string' ? e.code : '';
  const name = e.name && e.name !== 'Error' ? `${e.name}: ` : '';
  return { code, message: `${name}${e.message ?? String(e)}` };
}

export class ErrorBox {
  constructor(box, list, clearButton) {
    this.box = box;
    this.list = list;
    this.count = 0;
    clearButton.addEventListener('click', () => this.clear());
    window.addEventListener('error', (ev) => this.show(ev.error ?? ev.message, 'uncaught'));
    window.addEventListener('unhandledrejection', (ev) => this.show(ev.reason, 'uncaught (promise)'));
  }

  /** Adds an error line; `context` says what the page was doing. */
  show(error, context) {
    const { code, message } = describeError(error);
    const li = document.createElement('li');
    li.dataset.testid = 'error-item';
    li.dataset.code = code;
    const time = new Date().toLocaleTimeString();
    li.textContent = `${time} ${context ? context + ': ' : ''}${message}${code ? ` [${code}]` : ''}`;
    this.list.prepend(li);
    while (this.list.children.length > 8) this.list.lastElementChild.remove();
    this.count++;
    this.box.hidden = false;
    this.box.dataset.count = String(this.count);
    console.warn(context, error); // shown in the page; warn so it is not mistaken for an uncaught error
  }

  clear() {
    this.list.replaceChildren();
    this.box.hidden = true;
  }
}
