/** Node-free DOM helpers. Text always goes in through text nodes: model output is never parsed as HTML. */

/** What an element can contain: nodes, or strings (added as text, never as markup). */
export type Child = Node | string | number | null | undefined | false;

/** Element options; `attrs` must never carry event handlers (use `on`). */
export interface Props {
  class?: string;
  title?: string;
  attrs?: Record<string, string>;
  on?: { [K in keyof HTMLElementEventMap]?: (e: HTMLElementEventMap[K]) => void };
}

/** Creates an element with text-only children. */
export function h<K extends keyof HTMLElementTagNameMap>(tag: K, props: Props | null = null, ...children: Child[]): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  if (props?.class) el.className = props.class;
  if (props?.title) el.title = props.title;
  for (const [k, v] of Object.entries(props?.attrs ?? {})) {
    if (/^on/i.test(k)) throw new Error(`refusing event-handler attribute ${k}`);
    el.setAttribute(k, v);
  }
  for (const [k, fn] of Object.entries(props?.on ?? {})) el.addEventListener(k, fn as EventListener);
  append(el, ...children);
  return el;
}

/** Appends children; strings and numbers become text nodes. */
export function append(el: Node, ...children: Child[]): void {
  for (const c of children) {
    if (c === null || c === undefined || c === false) continue;
    el.appendChild(typeof c === 'string' || typeof c === 'number' ? document.createTextNode(String(c)) : c);
  }
}

/** Removes every child. */
export function clear(el: Node): void {
  while (el.firstChild) el.removeChild(el.firstChild);
}

/** A section with a heading and an optional note. */
export function section(id: string, title: string, note: string | null, ...children: Child[]): HTMLElement {
  return h('section', { attrs: { id } }, h('h2', null, title), note ? h('p', { class: 'note' }, note) : null, ...children);
}

/** A table from a header row and body rows of cells. */
export function table(head: Child[], rows: Child[][], cls = 'grid'): HTMLTableElement {
  return h(
    'table',
    { class: cls },
    h('thead', null, h('tr', null, ...head.map((c) => h('th', null, c)))),
    h('tbody', null, ...rows.map((r) => h('tr', null, ...r.map((c) => (c instanceof HTMLTableCellElement ? c : h('td', null, c)))))),
  );
}
