// Lab: record a collection, upload a results CSV (per-row outcome), its view (results,
// turnaround, the region's backlog).
import { t, number } from '../i18n.js';
import { get, post } from '../api.js';
import { h, section, form, dataTable } from '../ui.js';
import { scopes } from '../auth.js';

export const allowed = (user) => scopes(user, 'lab').length > 0;

export async function render(main, { user }) {
  const lab = scopes(user, 'lab')[0];
  const outcome = h('div', { id: 'batch-outcome' });
  const view = h('div', { id: 'lab-view' });
  main.append(h('h1', { class: 'h2', text: `${t('nav_lab')} ${lab}` }),
    h('div', { class: 'row' },
      h('div', { class: 'col-lg-6' }, form({ id: 'collection', title: 'Prelievo / collection', fields: [
        { name: 'swab_id', label: t('swab_id'), required: true }, { name: 'collected_at', label: t('at'), type: 'datetime', required: true },
        { name: 'site', label: t('facility') }],
      onSubmit: (v, opts) => post(`/v1/swabs/${encodeURIComponent(v.swab_id || '-')}/collection`, { collected_at: v.collected_at, site: v.site }, opts) })),
      h('div', { class: 'col-lg-6' }, form({ id: 'upload', title: t('upload_results'), submitLabel: t('upload'),
        fields: [{ name: 'file', label: t('csv_file'), type: 'file', accept: '.csv,text/csv', required: true }],
        onSubmit: async (v, opts) => {
          if (!v.file) throw new Error(t('csv_file'));
          return post('/v1/results:batch', await v.file.text(), { ...opts, contentType: 'text/csv' });
        },
        onDone: (r) => {
          outcome.replaceChildren(section('result', h('p', { id: 'batch-summary' }, `✔ ${r.body.accepted} · ✖ ${r.body.rejected}`),
            dataTable({ id: 'batch-rows', caption: t('result'), rows: r.body.results, columns: [
              { key: 'row', label: t('row'), numeric: true }, { key: 'status', label: 'HTTP', numeric: true },
              { key: 'detail', label: t('what'), value: (x) => x.detail || (x.person_id ? `${t('person')} ${x.person_id} · #${x.position}` : '') }] })));
          load(r.position);
        } }))),
    outcome, view);

  async function load(minPosition) {
    const v = (await get(`/v1/views/labs/${encodeURIComponent(lab)}`, { min_position: minPosition })).body;
    view.replaceChildren(section('lab_view',
      h('div', { class: 'kpis mb-3' }, [['results', v.results_7d, 'Risultati 7 gg / results 7 d'], ['median', v.turnaround_7d?.median_minutes, 'Mediana TAT (min)'],
        ['p90', v.turnaround_7d?.p90_minutes, 'p90 TAT (min)'], ['backlog', v.region_backlog, 'Backlog regione / region backlog']]
        .map(([k, value, label]) => h('div', { class: 'kpi', 'data-kpi': k }, h('div', { class: 'small', text: label }), h('div', { class: 'value', text: number(value) })))),
      dataTable({ id: 'lab-daily', caption: t('lab_view'), rows: [...(v.daily || [])].reverse(), pageSize: 60, columns: [
        { key: 'date', label: t('date') }, { key: 'results', label: t('result'), numeric: true }, { key: 'positive', label: '+', numeric: true },
        { key: 'negative', label: '−', numeric: true }, { key: 'corrections', label: t('corrects'), numeric: true },
        { key: 'turnaround_median_minutes', label: 'TAT p50', numeric: true }, { key: 'turnaround_p90_minutes', label: 'TAT p90', numeric: true }] })));
  }
  await load();
}
