// GP: its patients with their statuses; a patient's page (person.js) lets it request a swab.
import { t } from '../i18n.js';
import { get } from '../api.js';
import { h, section, dataTable } from '../ui.js';
import { scopes } from '../auth.js';

export const allowed = (user) => scopes(user, 'gp').length > 0;

export async function render(main, { user }) {
  const gp = scopes(user, 'gp')[0];
  const v = (await get(`/v1/views/gps/${encodeURIComponent(gp)}`)).body;
  const status = (p) => (p.measures || []).map((m) => m.kind || m).join(', ') || (p.case_open ? 'case open' : '–');
  main.append(h('h1', { class: 'h2', text: `${t('nav_gp')} ${gp}` }),
    section('patients', dataTable({ id: 'patients', caption: `${t('patients')} (${v.patient_count})`, rows: v.patients, searchKeys: ['person_id'], columns: [
      { key: 'person_id', label: t('person_id'), render: (p) => h('a', { href: `#/person/${p.person_id}`, text: p.person_id }) },
      { key: 'case_open', label: t('status'), value: status },
      { key: 'pending_swabs', label: t('swabs'), value: (p) => (p.pending_swabs || []).length, numeric: true },
      { key: 'request', label: t('swab_request'), render: (p) => h('a', { href: `#/person/${p.person_id}`, class: 'btn btn-sm btn-outline-primary', text: t('swab_request') }) }] })));
}
