// A person's page: state, measures, swabs; the case timeline from the history, each
// correction beside the event it corrected, "as the registry knew it on" (as_of); a form
// per command this user may send, each with If-Match on the version shown (412: someone
// else changed the case meanwhile, shown, not overwritten) and an Idempotency-Key.
import { t } from '../i18n.js';
import { get, post } from '../api.js';
import { h, section, form, dataTable, today } from '../ui.js';

export const allowed = (user) => (user?.grants || []).some((g) => ['operator', 'gp', 'auditor'].includes(g.role));

const kv = (pairs) => h('dl', { class: 'row' }, pairs.flatMap(([k, v]) => [h('dt', { class: 'col-sm-4', text: t(k) }), h('dd', { class: 'col-sm-8', text: v ?? '–' })]));

function summary(e) {
  const ev = e.event || {};
  const bits = [];
  for (const k of ['swab_id', 'kind', 'outcome', 'reason', 'start', 'end', 'at', 'gp_id', 'residence_istat', 'contact_of', 'measure_id']) {
    if (ev[k] !== undefined && ev[k] !== null && ev[k] !== '') bits.push(`${k}: ${ev[k]}`);
  }
  return bits.join(' · ');
}

function timeline(history) {
  const byPosition = new Map(history.events.map((e) => [e.position, e]));
  const list = h('ol', { class: 'timeline', id: 'timeline' });
  for (const e of history.events) {
    if (e.corrects !== undefined) continue;  // shown beside what it corrects
    const item = h('li', { class: e.corrected_by ? 'corrected' : '', 'data-type': e.type },
      h('div', {}, h('strong', { text: e.type }), ` · ${(e.effective_at || '').slice(0, 16).replace('T', ' ')}`),
      h('div', { class: 'small', text: summary(e) }),
      h('div', { class: 'small text-muted', text: `${e.actor?.id || ''} (${e.actor?.role || ''}) · ${t('position')} ${e.position}` }));
    for (const p of [].concat(e.corrected_by ?? [])) {
      const c = byPosition.get(p);
      if (c) item.append(h('div', { class: 'correction', 'data-corrects': e.position }, h('strong', { text: `${t('corrected_by')} #${c.position}: ${c.type}` }), h('div', { class: 'small', text: summary(c) })));
    }
    list.append(item);
  }
  return list;
}

export async function render(main, { user, args }) {
  const id = args[0];
  const roles = new Set((user.grants || []).map((g) => g.role));
  let asOf = '';
  const body = h('div');
  const asOfInput = h('input', { type: 'datetime-local', id: 'as-of', class: 'form-control' });
  main.append(h('h1', { class: 'h2', text: t('person') }),
    h('form', { class: 'row g-2 align-items-end mb-3', id: 'as-of-form', onsubmit: (e) => { e.preventDefault(); asOf = asOfInput.value ? new Date(asOfInput.value).toISOString() : ''; load(); } },
      h('div', { class: 'col-auto form-group mb-0' }, h('label', { for: 'as-of', class: 'active', text: t('as_of') }), asOfInput),
      h('div', { class: 'col-auto' }, h('button', { type: 'submit', class: 'btn btn-outline-primary', text: t('show') })),
      h('div', { class: 'col-auto' }, h('button', { type: 'button', class: 'btn btn-link', text: t('now'), onclick: () => { asOf = ''; asOfInput.value = ''; load(); } }))),
    body);

  async function load(minPosition) {
    const q = { as_of: asOf || undefined, min_position: minPosition };
    const state = await get(`/v1/people/${encodeURIComponent(id)}`, q);
    const history = await get(`/v1/people/${encodeURIComponent(id)}/history`, { as_of: asOf || undefined, min_position: minPosition });
    draw(state.body, history.body);
  }

  function draw(p, history) {
    const personal = p.personal || {};
    const done = (r) => load(r.position);
    // If-Match takes the stream version (the state's ETag also covers the rules and the day).
    const version = `"${p.version}"`;
    const send = (path) => (v, opts) => post(`/v1/people/${encodeURIComponent(id)}${path}`, v, { ...opts, ifMatch: version });
    const forms = [];
    if (roles.has('operator') || roles.has('gp')) {
      forms.push(form({ id: 'swab', title: t('swab_request'), onSubmit: send('/swabs'), onDone: done, fields: [
        { name: 'swab_id', label: t('swab_id'), required: true }, { name: 'kind', label: t('kind'), type: 'select', options: ['molecular', 'antigen'], required: true },
        { name: 'reason', label: t('reason') }] }));
    }
    if (roles.has('operator')) {
      forms.push(
        form({ id: 'isolation', title: t('isolation'), onSubmit: send('/isolation'), onDone: done, fields: [
          { name: 'start', label: t('start'), type: 'date', required: true, value: today() }, { name: 'reason', label: t('reason'), required: true, value: 'positive' }, { name: 'end', label: t('end'), type: 'date' }] }),
        form({ id: 'quarantine', title: t('quarantine'), onSubmit: send('/quarantine'), onDone: done, fields: [
          { name: 'start', label: t('start'), type: 'date', required: true, value: today() }, { name: 'reason', label: t('reason'), required: true, value: 'contact' },
          { name: 'source_case', label: t('contact_of') }, { name: 'end', label: t('end'), type: 'date' }] }),
        form({ id: 'end-measure', title: t('end_measure'), onDone: done,
          onSubmit: (v, opts) => post(`/v1/people/${encodeURIComponent(id)}/measures/${encodeURIComponent(v.measure_id ?? '')}/end`, { at: v.at, reason: v.reason }, { ...opts, ifMatch: version }),
          fields: [{ name: 'measure_id', label: t('measure_id'), type: 'select', required: true, options: (p.measures || []).filter((m) => m.status !== 'ended').map((m) => String(m.measure_id)) },
            { name: 'at', label: t('at'), type: 'date', required: true, value: today() },
            { name: 'reason', label: t('reason'), type: 'select', required: true, options: ['negative_test', 'elapsed', 'revoked', 'case_closed'] }] }),
        form({ id: 'contact', title: t('contacts'), onSubmit: send('/contacts'), onDone: done, fields: [
          { name: 'contact_of', label: t('contact_of'), required: true }, { name: 'last_exposure', label: t('last_exposure'), type: 'date', required: true }] }),
        form({ id: 'hospital', title: t('hospitalisation'), onSubmit: send('/hospitalisation'), onDone: done, fields: [
          { name: 'kind', label: t('kind'), type: 'select', options: ['admission', 'icu', 'discharge'], required: true },
          { name: 'at', label: t('at'), type: 'datetime', required: true }, { name: 'facility', label: t('facility') }] }),
        form({ id: 'closure', title: t('closure'), onSubmit: send('/closure'), onDone: done, fields: [
          { name: 'outcome', label: t('outcome'), type: 'select', options: ['recovered', 'deceased'], required: true }, { name: 'at', label: t('at'), type: 'date', required: true, value: today() }] }));
    }
    body.replaceChildren(
      h('div', { class: 'row' },
        h('div', { class: 'col-lg-6' }, section('state', kv([
          ['name', `${personal.family_name || ''} ${personal.given_names || ''}`], ['tax_code', personal.tax_code], ['birth_date', personal.birth_date],
          ['residence_istat', p.residence ? `${p.residence.municipality} (${p.residence.istat}, ASL ${p.residence.asl})` : null],
          ['gp_id', p.gp_id], ['status', p.case?.open ? 'case open' : p.case?.closure ? `closed: ${p.case.closure.outcome}` : 'no case'],
          ['hospitalisation', p.hospital?.in_icu ? 'ICU' : p.hospital?.hospitalized ? 'admitted' : '–'], ['version', String(p.version)]]))),
        h('div', { class: 'col-lg-6' }, section('timeline', timeline(history)))),
      section('measures', dataTable({ id: 'measures-table', caption: t('measures'), rows: p.measures || [], columns: [
        { key: 'measure_id', label: '#' }, { key: 'kind', label: t('kind') }, { key: 'reason', label: t('reason') }, { key: 'start', label: t('start') },
        { key: 'end', label: t('end'), value: (m) => m.ended_on || m.end || m.max_end }, { key: 'status', label: t('status') }] })),
      section('swabs', dataTable({ id: 'swabs-table', caption: t('swabs'), rows: p.swabs || [], columns: [
        { key: 'swab_id', label: t('swab_id') }, { key: 'kind', label: t('kind') }, { key: 'collected_at', label: t('at') },
        { key: 'outcome', label: t('outcome') }, { key: 'lab_id', label: t('lab_id') }] })),
      asOf ? '' : h('div', { class: 'row' }, forms.map((f) => h('div', { class: 'col-lg-6' }, f))));
  }
  await load();
}
