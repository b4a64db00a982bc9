// The console's shell: sign-in, the navigation the user's grants allow, and a hash router
// (#/page/arg) that mounts one page module at a time. Each page module exports
// `allowed(user)` and `render(main, {user, args})`, which may return a cleanup function.
import { t, setLang, currentLang, translate } from './i18n.js';
import * as auth from './auth.js';
import { h, notAvailable, errorBox } from './ui.js';

const pages = {
  dashboard: () => import('./pages/dashboard.js'),
  operator: () => import('./pages/operator.js'),
  person: () => import('./pages/person.js'),
  lab: () => import('./pages/lab.js'),
  gp: () => import('./pages/gp.js'),
  school: () => import('./pages/school.js'),
  mayor: () => import('./pages/mayor.js'),
  auditor: () => import('./pages/auditor.js'),
  admin: () => import('./pages/admin.js'),
  me: () => import('./pages/me.js'),
};
const navOrder = ['dashboard', 'operator', 'lab', 'gp', 'school', 'mayor', 'auditor', 'admin', 'me'];

const main = document.getElementById('main');
let cleanup = null;
let user = null;

function signInPage() {
  const box = h('div', { class: 'row' }, h('div', { class: 'col-lg-6' }));
  const col = box.firstChild;
  col.append(h('h1', { class: 'h2', text: t('signin') }));
  if (auth.oidcConfigured()) {
    col.append(h('button', { type: 'button', class: 'btn btn-primary', id: 'signin-oidc', text: t('signin_oidc'),
      onclick: () => auth.signInWithProvider().catch((e) => col.append(errorBox(e))) }));
  } else {
    const area = h('textarea', { id: 'token', class: 'form-control mono', rows: 4, autocomplete: 'off', spellcheck: 'false' });
    col.append(h('p', { text: t('paste_help') }),
      h('form', { onsubmit: async (e) => { e.preventDefault(); auth.useToken(area.value); await start(); } },
        h('div', { class: 'form-group' }, h('label', { for: 'token', class: 'active', text: t('paste_token') }), area),
        h('button', { type: 'submit', class: 'btn btn-primary', id: 'use-token', text: t('use_token') })));
  }
  return box;
}

function drawNav(current) {
  const nav = document.getElementById('nav');
  nav.replaceChildren();
  if (!user) return;
  for (const name of navOrder) {
    if (!visible[name]?.(user)) continue;
    nav.append(h('li', { class: 'nav-item' }, h('a', { class: 'nav-link', href: `#/${name}`, 'aria-current': name === current ? 'page' : null, text: t(`nav_${name}`) })));
  }
}
const visible = {};

async function route() {
  cleanup?.();
  cleanup = null;
  const [name = 'dashboard', ...args] = location.hash.replace(/^#\/?/, '').split('/').map(decodeURIComponent);
  main.replaceChildren();
  if (!user) { main.append(signInPage()); drawNav(); return; }
  const load = pages[name];
  drawNav(name);
  if (!load) { main.append(notAvailable()); return; }
  const page = await load();
  if (!page.allowed(user)) { main.append(notAvailable()); return; }
  try {
    cleanup = (await page.render(main, { user, args })) || null;
  } catch (e) {
    main.append(e.status === 403 || e.status === 404 ? notAvailable() : errorBox(e));
  }
  document.title = `caseledger · ${t(`nav_${name}`)}`;
}

async function start() {
  try {
    user = await auth.whoAmI();
  } catch (e) {
    user = null;
    main.replaceChildren(errorBox(e));
  }
  document.getElementById('who').textContent = user ? `${t('signed_as')}: ${user.subject}` : '';
  document.getElementById('signout').hidden = !user;
  await route();
}

async function boot() {
  // Every page module (the navigation needs each one's `allowed`) and the sign-in config at
  // once: one round trip, not one per module.
  const config = auth.loadConfig();
  const modules = await Promise.all(navOrder.map((name) => pages[name]()));
  navOrder.forEach((name, i) => { visible[name] = modules[i].allowed; });
  const lang = document.getElementById('lang');
  const label = () => { lang.textContent = t('lang_switch'); lang.lang = currentLang() === 'it' ? 'en' : 'it'; };
  setLang(currentLang());
  label();
  lang.addEventListener('click', () => { setLang(currentLang() === 'it' ? 'en' : 'it'); label(); start(); });
  document.getElementById('signout').addEventListener('click', () => { auth.signOut(); user = null; location.hash = '#/dashboard'; start(); });
  await config;
  try { await auth.completeSignIn(); } catch (e) { main.replaceChildren(errorBox(e)); }
  window.addEventListener('hashchange', route);
  translate(document);
  await start();
}

boot();
