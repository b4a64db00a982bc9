// Operator: find a person by tax code, register a person. The person's page is person.js.
import { t } from '../i18n.js';
import { get, post } from '../api.js';
import { h, form } from '../ui.js';

export const allowed = (user) => (user?.grants || []).some((g) => g.role === 'operator' || g.role === 'auditor');

export async function render(main, { user }) {
  const operator = (user.grants || []).some((g) => g.role === 'operator');
  main.append(h('h1', { class: 'h2', text: t('nav_operator') }));
  main.append(form({
    id: 'find', title: t('find_person'), submitLabel: t('find'),
    fields: [{ name: 'tax_code', label: t('tax_code'), required: true }],
    onSubmit: async (v) => (await get('/v1/people', { tax_code: (v.tax_code || '').toUpperCase() })).body,
    onDone: (person) => { location.hash = `#/person/${person.id}`; },
  }));
  if (!operator) return;
  main.append(form({
    id: 'register', title: t('register'),
    fields: [
      { name: 'tax_code', label: t('tax_code') },
      { name: 'family_name', label: t('family_name'), required: true },
      { name: 'given_names', label: t('given_names'), required: true },
      { name: 'birth_date', label: t('birth_date'), type: 'date', required: true },
      { name: 'sex', label: t('sex'), type: 'select', options: ['F', 'M'], required: true },
      { name: 'residence_istat', label: t('residence_istat'), required: true },
      { name: 'address', label: t('address') },
      { name: 'phone', label: t('phone') },
    ],
    onSubmit: (v, opts) => post('/v1/people', v, opts),
    onDone: (r) => { location.hash = `#/person/${r.body.person_id}`; },
  }));
}
