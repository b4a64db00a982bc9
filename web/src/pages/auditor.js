// Auditor: any case history, the access report of a person (who read it, when), the chain tip.
import { t } from '../i18n.js';
import { get } from '../api.js';
import { h, section, dataTable, form } from '../ui.js';

export const allowed = (user) => (user?.grants || []).some((g) => g.role === 'auditor');

export async function render(main) {
  const out = h('div', { id: 'audit-out' });
  const chain = (await get('/v1/audit/chain')).body;
  main.append(h('h1', { class: 'h2', text: t('nav_auditor') }),
    section('chain_tip', h('dl', { class: 'row', id: 'chain' },
      h('dt', { class: 'col-sm-3', text: t('position') }), h('dd', { class: 'col-sm-9', text: String(chain.position) }),
      h('dt', { class: 'col-sm-3', text: t('hash') }), h('dd', { class: 'col-sm-9 mono', text: chain.hash }),
      h('dt', { class: 'col-sm-3', text: chain.algorithm }), h('dd', { class: 'col-sm-9 small', text: chain.chain }))),
    form({ id: 'audit-person', title: t('history'), submitLabel: t('show'), fields: [{ name: 'id', label: t('person_id'), required: true }],
      onSubmit: async (v) => {
        const id = encodeURIComponent(v.id || '');
        return { history: (await get(`/v1/people/${id}/history`)).body, access: (await get(`/v1/people/${id}/access-log`)).body };
      },
      onDone: ({ history, access }) => out.replaceChildren(
        h('p', {}, h('a', { href: `#/person/${history.person_id}`, text: `${t('person')} ${history.person_id}` })),
        section('events', dataTable({ id: 'history-table', caption: t('timeline'), rows: history.events, columns: [
          { key: 'position', label: '#', numeric: true }, { key: 'type', label: t('what') }, { key: 'effective_at', label: t('when') },
          { key: 'recorded_at', label: 'recorded_at' }, { key: 'actor', label: t('reader'), value: (e) => `${e.actor?.id} (${e.actor?.role})` },
          { key: 'corrects', label: t('corrects'), value: (e) => e.corrects ?? (e.corrected_by ? `${t('corrected_by')} ${[].concat(e.corrected_by).join(', ')}` : '') }] })),
        section('access_report', dataTable({ id: 'access-table', caption: t('access_report'), rows: access.records, columns: [
          { key: 'sequence', label: '#', numeric: true }, { key: 'at', label: t('when') }, { key: 'subject', label: t('reader') },
          { key: 'role', label: t('role') }, { key: 'endpoint', label: t('what') }, { key: 'status', label: 'HTTP', numeric: true }] }))) }),
    out);
}
