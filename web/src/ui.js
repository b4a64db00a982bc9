// DOM helpers shared by the pages: element building (no innerHTML with data, so nothing
// the API returns is ever parsed as markup), sortable and searchable tables, forms whose
// fields show problem+json errors, and the "not available to you" page.
import { t, number } from './i18n.js';
import { ApiError, newIdempotencyKey } from './api.js';

export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === null || v === false) continue;
    if (k === 'class') el.className = v;
    else if (k === 'text') el.textContent = v;
    else if (k.startsWith('on')) el.addEventListener(k.slice(2), v);
    else el.setAttribute(k, v === true ? '' : v);
  }
  for (const c of children.flat()) if (c !== null && c !== undefined && c !== false) el.append(c instanceof Node ? c : String(c));
  return el;
}

export const section = (titleKey, ...children) =>
  h('section', { class: 'mb-5', 'aria-labelledby': `h-${titleKey}` }, h('h2', { class: 'h4', id: `h-${titleKey}`, text: t(titleKey) }), ...children);

export function notAvailable() {
  return h('div', { class: 'callout', role: 'alert', 'data-testid': 'not-available' },
    h('h1', { class: 'h3', text: t('not_available') }), h('p', { text: t('not_available_detail') }));
}

export function errorBox(e) {
  return h('div', { class: 'alert alert-danger', role: 'alert' }, `${t('error')}: ${e.message}`);
}

// A hidden count (a mayor's counts of 1 and 2 come back as null) reads "< 3".
export const masked = (v, digits = 0) => (v === null ? t('lt3') : number(v, digits));

// columns: [{key, label, value(row) -> sortable value, render(row) -> node|string, numeric}]
export function dataTable({ caption, columns, rows, searchKeys = [], id, pageSize = 0 }) {
  let sortKey = null, dir = 1, filter = '';
  const tbody = h('tbody');
  const heads = columns.map((c) => {
    const btn = h('button', { type: 'button', class: 'btn btn-link p-0 text-start fw-semibold', text: c.label,
      onclick: () => { dir = sortKey === c.key ? -dir : (c.numeric ? -1 : 1); sortKey = c.key; draw(); } });
    return h('th', { scope: 'col', 'aria-sort': 'none', class: c.numeric ? 'text-end' : '', 'data-key': c.key }, btn);
  });
  const value = (c, r) => (c.value ? c.value(r) : r[c.key]);
  function draw() {
    let list = rows;
    if (filter) list = list.filter((r) => searchKeys.some((k) => String(r[k] ?? '').toLowerCase().includes(filter)));
    if (sortKey) {
      const c = columns.find((x) => x.key === sortKey);
      list = [...list].sort((a, b) => {
        const x = value(c, a) ?? -Infinity, y = value(c, b) ?? -Infinity;
        return (x < y ? -1 : x > y ? 1 : 0) * dir;
      });
    }
    heads.forEach((th) => th.setAttribute('aria-sort', th.dataset.key === sortKey ? (dir > 0 ? 'ascending' : 'descending') : 'none'));
    const shown = pageSize ? list.slice(0, pageSize) : list;
    tbody.replaceChildren(...shown.map((r) => h('tr', {}, columns.map((c) =>
      h('td', { class: c.numeric ? 'text-end' : '' }, c.render ? c.render(r) : (c.numeric ? number(value(c, r), c.digits || 0) : value(c, r) ?? '–'))))));
    if (!shown.length) tbody.append(h('tr', {}, h('td', { colspan: columns.length, text: t('none') })));
    count.textContent = `${list.length} / ${rows.length}`;
  }
  const count = h('span', { class: 'text-muted small ms-2', 'aria-live': 'polite' });
  const parts = [];
  if (searchKeys.length) {
    const input = h('input', { type: 'search', class: 'form-control', id: `${id}-search`,
      oninput: (e) => { filter = e.target.value.trim().toLowerCase(); draw(); } });
    parts.push(h('div', { class: 'form-group mb-2' }, h('label', { for: `${id}-search`, class: 'active', text: `${t('search')}: ${caption}` }), input));
  }
  const table = h('table', { class: 'table table-sm table-hover', id },
    h('caption', {}, caption, count), h('thead', {}, h('tr', {}, heads)), tbody);
  draw();
  return h('div', {}, parts, h('div', { class: 'table-responsive' }, table));
}

// fields: [{name, label, type: 'text'|'date'|'datetime'|'select'|'number'|'file'|'textarea', options, required, value}]
// onSubmit(values, {idempotencyKey}) -> Promise; its ApiError's field errors land beside the fields.
export function form({ id, title, fields, submitLabel = t('submit'), onSubmit, onDone }) {
  const inputs = {}, messages = {};
  let key = newIdempotencyKey();
  const status = h('div', { class: 'form-status mt-2', role: 'status', 'aria-live': 'polite' });
  const groups = fields.map((f) => {
    const fid = `${id}-${f.name}`;
    let input;
    if (f.type === 'select') {
      input = h('select', { id: fid, name: f.name, class: 'form-select', required: f.required },
        (f.required ? [] : [h('option', { value: '', text: '–' })]).concat(f.options.map((o) => h('option', { value: o, text: o }))));
    } else if (f.type === 'textarea') {
      input = h('textarea', { id: fid, name: f.name, class: 'form-control', rows: 6, required: f.required });
    } else {
      input = h('input', { id: fid, name: f.name, class: f.type === 'file' ? 'form-control-file' : 'form-control',
        type: f.type === 'datetime' ? 'datetime-local' : f.type || 'text', required: f.required, accept: f.accept });
    }
    if (f.value !== undefined) input.value = f.value;
    inputs[f.name] = input;
    messages[f.name] = h('div', { class: 'invalid-feedback', id: `${fid}-error` });
    input.setAttribute('aria-describedby', `${fid}-error`);
    return h('div', { class: 'form-group mb-3' }, h('label', { for: fid, class: 'active', text: f.label + (f.required ? ' *' : '') }), input, messages[f.name]);
  });
  const button = h('button', { type: 'submit', class: 'btn btn-primary', text: submitLabel });
  const el = h('form', { id, class: 'mb-4', novalidate: true, 'aria-labelledby': `${id}-title` },
    h('h3', { class: 'h5', id: `${id}-title`, text: title }), groups, button, status);
  // Any edit makes a new submission (a new key); a retry of an unchanged form keeps the key.
  el.addEventListener('input', () => { key = newIdempotencyKey(); });
  el.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    for (const n of Object.keys(inputs)) { inputs[n].classList.remove('is-invalid'); inputs[n].removeAttribute('aria-invalid'); messages[n].textContent = ''; }
    status.replaceChildren();
    const values = {};
    for (const f of fields) {
      const v = inputs[f.name];
      if (f.type === 'file') values[f.name] = v.files[0];
      else if (f.type === 'number') values[f.name] = v.value === '' ? undefined : Number(v.value);
      else if (f.type === 'datetime') values[f.name] = v.value ? new Date(v.value).toISOString().replace(/\.\d{3}Z$/, 'Z') : undefined;
      else values[f.name] = v.value === '' ? undefined : v.value;
    }
    button.disabled = true;
    try {
      const result = await onSubmit(values, { idempotencyKey: key });
      status.replaceChildren(h('div', { class: 'alert alert-success', text: t('saved') }));
      key = newIdempotencyKey();
      onDone?.(result);
    } catch (e) {
      if (!(e instanceof ApiError)) { status.replaceChildren(errorBox(e)); return; }
      let placed = false;
      for (const [name, msg] of Object.entries(e.fields)) {
        const base = name.split(/[.[]/)[0];
        if (inputs[base]) {
          inputs[base].classList.add('is-invalid');
          inputs[base].setAttribute('aria-invalid', 'true');
          messages[base].textContent = msg;
          placed = true;
        }
      }
      // The API answers a stale If-Match with 412 precondition-failed (409 version-conflict is a
      // write race the API could not absorb).
      const conflict = e.status === 412 || String(e.problem.type || '').endsWith('/version-conflict');
      const text = conflict ? `${t('conflict')} (${e.status})` : `${e.status} ${e.problem.title || ''}: ${e.message}`;
      status.replaceChildren(h('div', { class: 'alert alert-danger', role: 'alert', 'data-status': e.status, text }));
      if (placed) inputs[Object.keys(e.fields).map((n) => n.split(/[.[]/)[0]).find((n) => inputs[n])]?.focus();
    } finally {
      button.disabled = false;
    }
  });
  return el;
}

export const today = () => new Date().toISOString().slice(0, 10);
