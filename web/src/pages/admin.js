// Admin: grants (grant, revoke); rules (list, dry-run what-if diff as tables, adopt and
// follow the views' rebuild until the switch).
import { t } from '../i18n.js';
import { get, post, del } from '../api.js';
import { h, section, dataTable, form, errorBox } from '../ui.js';

export const allowed = (user) => (user?.grants || []).some((g) => g.role === 'admin');

export async function render(main) {
  const grantsBox = h('div', { id: 'grants' });
  const rulesBox = h('div', { id: 'rules' });
  const diffBox = h('div', { id: 'whatif' });
  const progress = h('div', { id: 'rebuild', role: 'status', 'aria-live': 'polite' });
  let timer = null;

  async function loadGrants() {
    const users = (await get('/v1/grants')).body.users;
    const rows = users.flatMap((u) => u.grants.map((g) => ({ user: u.user, role: g.role, scope: g.scope })));
    grantsBox.replaceChildren(dataTable({ id: 'grants-table', caption: t('all_grants'), rows, searchKeys: ['user', 'role', 'scope'], columns: [
      { key: 'user', label: t('user') }, { key: 'role', label: t('role') }, { key: 'scope', label: t('scope') },
      { key: 'revoke', label: t('revoke'), render: (r) => h('button', { type: 'button', class: 'btn btn-sm btn-outline-danger', text: `${t('revoke')} ${r.role}`,
        'aria-label': `${t('revoke')} ${r.role} ${r.scope ?? ''} ${r.user}`,
        onclick: async () => {
          try { await del(`/v1/grants/${encodeURIComponent(r.user)}/${r.role}${r.scope ? `/${encodeURIComponent(r.scope)}` : ''}`); loadGrants(); }
          catch (e) { grantsBox.prepend(errorBox(e)); }
        } }) }] }));
  }

  async function loadRules() {
    const r = (await get('/v1/rules')).body;
    rulesBox.replaceChildren(dataTable({ id: 'rules-table', caption: t('rules'), rows: r.rule_sets, columns: [
      { key: 'id', label: 'id' }, { key: 'effective_from', label: t('effective_from') }, { key: 'title', label: t('name') },
      { key: 'recorded_at', label: t('adopted') }, { key: 'position', label: t('position'), numeric: true }] }));
    const v = r.views || {};
    progress.replaceChildren(h('p', { 'data-rebuilding': String(Boolean(v.rebuilding)) },
      v.rebuilding ? `${t('rebuilding')}… (${t('position')} ${v.target_rules_position})` : `${t('rules')}: ${t('position')} ${v.rules_position}${v.error ? ` · ${v.error}` : ''}`));
    return v.rebuilding;
  }

  function diffTables(d) {
    return [
      h('p', { id: 'whatif-totals' }, Object.entries(d.totals || {}).map(([k, v]) => `${k}: ${v}`).join(' · ')),
      dataTable({ id: 'whatif-measures', caption: t('measures'), rows: d.measures || [], columns: [
        { key: 'person_id', label: t('person_id') }, { key: 'measure_id', label: '#', numeric: true }, { key: 'kind', label: t('kind') }, { key: 'start', label: t('start') },
        { key: 'end_before', label: `${t('end')} · ${t('before')}` }, { key: 'end_after', label: `${t('end')} · ${t('after')}` }] }),
      dataTable({ id: 'whatif-statuses', caption: t('status'), rows: d.statuses || [], columns: [
        { key: 'person_id', label: t('person_id') }, { key: 'before', label: t('before') }, { key: 'after', label: t('after') }] }),
      dataTable({ id: 'whatif-counts', caption: t('total'), rows: d.counts || [], columns: [
        { key: 'view', label: 'view' }, { key: 'key', label: t('code') }, { key: 'field', label: 'field' },
        { key: 'before', label: t('before'), numeric: true }, { key: 'after', label: t('after'), numeric: true }] }),
    ];
  }

  const parse = (text) => { try { return JSON.parse(text || ''); } catch (e) { throw Object.assign(new Error(`JSON: ${e.message}`), {}); } };
  main.append(h('h1', { class: 'h2', text: t('nav_admin') }),
    section('all_grants', grantsBox, form({ id: 'grant', title: t('grant'), fields: [
      { name: 'user', label: t('user'), required: true }, { name: 'role', label: t('role'), type: 'select', required: true, options: ['operator', 'lab', 'gp', 'school', 'mayor', 'auditor', 'admin'] },
      { name: 'scope', label: t('scope') }], onSubmit: (v, opts) => post('/v1/grants', v, opts), onDone: loadGrants })),
    section('rules', rulesBox, progress,
      form({ id: 'dry-run', title: t('dry_run'), submitLabel: t('dry_run'), fields: [{ name: 'rules', label: t('rule_set'), type: 'textarea', required: true }],
        onSubmit: (v) => post('/v1/rules', parse(v.rules), { params: { dry_run: 'true' } }),
        onDone: (r) => diffBox.replaceChildren(section('diff', ...diffTables(r.body))) }),
      diffBox,
      form({ id: 'adopt', title: t('adopt'), submitLabel: t('adopt'), fields: [{ name: 'rules', label: t('rule_set'), type: 'textarea', required: true }],
        onSubmit: (v, opts) => post('/v1/rules', parse(v.rules), opts),
        onDone: () => { clearInterval(timer); timer = setInterval(async () => { if (!(await loadRules())) clearInterval(timer); }, 500); loadRules(); } })));
  await Promise.all([loadGrants(), loadRules()]);
  return () => clearInterval(timer);
}
