// Mayor: its municipality's aggregate view. Counts of 1 and 2 come back hidden (null) and
// read "< 3".
import { t } from '../i18n.js';
import { get } from '../api.js';
import { h, section, dataTable, masked } from '../ui.js';
import { scopes } from '../auth.js';

export const allowed = (user) => scopes(user, 'mayor').length > 0;

export async function render(main, { user }) {
  const istat = scopes(user, 'mayor')[0];
  const v = (await get(`/v1/views/municipalities/${encodeURIComponent(istat)}`)).body;
  const fields = [['currently_positive', 'currently_positive'], ['new_positives_7d', 'new_positives'], ['incidence_7d_per_100k', 'incidence'],
    ['cumulative_cases', 'total'], ['recovered', 'recovered'], ['deceased', 'deaths'], ['active_isolations', 'isolated'], ['active_quarantines', 'quarantined']];
  main.append(h('h1', { class: 'h2', text: `${t('nav_mayor')}: ${v.name} (${v.istat})` }),
    h('div', { class: 'kpis mb-4', id: 'mayor-kpis' }, fields.map(([k, label]) =>
      h('div', { class: 'kpi', 'data-kpi': k }, h('div', { class: 'small', text: t(label) }), h('div', { class: 'value', text: masked(v[k], k.startsWith('incidence') ? 1 : 0) })))),
    section('timeline', dataTable({ id: 'mayor-daily', caption: `${v.name} · ${t('population')} ${v.population}`, rows: [...(v.daily || [])].reverse(), pageSize: 90, columns: [
      { key: 'date', label: t('date') },
      ...['new_positives', 'currently_positive', 'cumulative_cases', 'active_isolations', 'active_quarantines', 'recovered', 'deceased'].map((k) =>
        ({ key: k, label: k, numeric: true, render: (r) => masked(r[k]) })),
      { key: 'incidence_7d_per_100k', label: t('incidence'), numeric: true, render: (r) => masked(r.incidence_7d_per_100k, 1) }] })));
}
