// School: its classes (counts and statuses, no person).
import { t } from '../i18n.js';
import { get } from '../api.js';
import { h, section, dataTable } from '../ui.js';
import { scopes } from '../auth.js';

export const allowed = (user) => scopes(user, 'school').length > 0;

export async function render(main, { user }) {
  const school = scopes(user, 'school')[0];
  let classes = [];
  try {
    classes = (await get(`/v1/views/schools/${encodeURIComponent(school)}`)).body.classes || [];
  } catch (e) {
    if (e.status !== 404) throw e;  // 404: no pupil of this school is in the registry yet
  }
  const keys = classes.length ? Object.keys(classes[0]).filter((k) => typeof classes[0][k] !== 'object' || classes[0][k] === null) : ['class'];
  main.append(h('h1', { class: 'h2', text: `${t('nav_school')} ${school}` }),
    section('classes', dataTable({ id: 'classes', caption: t('classes'), rows: classes,
      columns: keys.map((k) => ({ key: k, label: k, numeric: typeof classes[0]?.[k] === 'number' })) })));
}
