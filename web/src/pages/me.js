// Profile: who the token says the user is, and what the grants in the log allow (/v1/me).
import { t } from '../i18n.js';
import { h, section, dataTable } from '../ui.js';

export const allowed = (user) => Boolean(user);

const allows = {
  operator: 'Persone residenti nella ASL: lettura e comandi / people resident in the ASL: read and commands',
  lab: 'Prelievi e risultati del laboratorio / the lab\'s collections and results',
  gp: 'I propri assistiti; richiesta tamponi / own patients; swab requests',
  school: 'Classi della scuola (conteggi) / the school\'s classes (counts)',
  mayor: 'Vista aggregata del comune, conteggi < 3 nascosti / the municipality\'s aggregate view, counts < 3 hidden',
  auditor: 'Ogni storia, report degli accessi, catena / every history, access reports, the chain',
  admin: 'Abilitazioni, regole, cancellazione / grants, rules, erasure',
};

export function render(main, { user }) {
  main.append(h('h1', { class: 'h2', text: t('nav_me') }),
    h('p', { id: 'subject' }, `${t('signed_as')}: `, h('strong', { text: user.subject })),
    section('grants', user.grants.length ? dataTable({ id: 'me-grants', caption: t('grants'), rows: user.grants, columns: [
      { key: 'role', label: t('role') }, { key: 'scope', label: t('scope') }, { key: 'what', label: t('what'), value: (g) => allows[g.role] || '' }] })
      : h('p', { text: t('no_grants') })));
}
