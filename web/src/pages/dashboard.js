// Dashboard: the regional curve from the region view (DPC columns), ASL, province and
// municipality tables, live through /v1/views/stream, and the DPC CSV.
import { t, number } from '../i18n.js';
import { get, stream } from '../api.js';
import { h, section, dataTable } from '../ui.js';

export const allowed = (user) => Boolean(user);  // the bulletin is public to every signed-in role

const day = (d) => d.data.slice(0, 10);
const addDays = (iso, n) => new Date(Date.parse(`${iso}T00:00:00Z`) + n * 86400000).toISOString().slice(0, 10);
const avg7 = (values) => values.map((_, i) => {
  if (i < 6) return null;
  let s = 0;
  for (let j = i - 6; j <= i; j++) s += values[j] ?? 0;
  return s / 7;
});

function series(daily) {
  const swabs = daily.map((d, i) => (i ? d.tamponi - daily[i - 1].tamponi : d.tamponi));  // DPC: cumulative
  return {
    x: daily.map((d) => Date.parse(`${day(d)}T00:00:00Z`) / 1000),
    new_positives: daily.map((d) => d.nuovi_positivi),
    swabs,
    positivity: daily.map((d, i) => (swabs[i] > 0 ? (100 * d.nuovi_positivi) / swabs[i] : null)),
    currently_positive: daily.map((d) => d.totale_positivi),
    hospitalised: daily.map((d) => d.ricoverati_con_sintomi),
    icu: daily.map((d) => d.terapia_intensiva),
  };
}

function chart(el, title, x, lines, width) {
  const colors = ['#0066cc', '#a66300', '#008055', '#cc334d'];
  const opts = {
    title, width, height: 260,
    series: [{}, ...lines.map((l, i) => ({ label: l.label, stroke: colors[i % colors.length], width: l.dash ? 1 : 2, dash: l.dash, scale: l.scale || 'y', value: (u, v) => (v == null ? '–' : number(v, l.digits || 0)) }))],
    axes: [{}, { scale: 'y' }, ...(lines.some((l) => l.scale === 'r') ? [{ scale: 'r', side: 1, grid: { show: false } }] : [])],
  };
  el.replaceChildren();
  return new window.uPlot(opts, [x, ...lines.map((l) => l.values)], el);
}

function totals(rows, key) {
  const groups = new Map();
  for (const m of rows) {
    const g = groups.get(m[key]) || { code: m[key], population: 0, currently_positive: 0, new_positives_7d: 0, cumulative_cases: 0, active_quarantines: 0 };
    g.population += m.population;
    for (const f of ['currently_positive', 'new_positives_7d', 'cumulative_cases', 'active_quarantines']) g[f] += m[f] ?? 0;
    groups.set(m[key], g);
  }
  return [...groups.values()].map((g) => ({ ...g, incidence: g.population ? (g.new_positives_7d * 100000) / g.population : 0 }));
}

const areaColumns = () => [
  { key: 'code', label: t('code') },
  { key: 'population', label: t('population'), numeric: true },
  { key: 'currently_positive', label: t('currently_positive'), numeric: true },
  { key: 'new_positives_7d', label: `${t('new_positives')} 7 gg`, numeric: true },
  { key: 'incidence', label: t('incidence'), numeric: true, digits: 1 },
  { key: 'active_quarantines', label: t('quarantined'), numeric: true },
];

export async function render(main) {
  const started = performance.now();
  let range = null;  // null: the last 90 days of the series, following new days
  let smooth = true;
  let region = null, municipalities = null;
  const charts = [];
  const from = h('input', { type: 'date', id: 'from', class: 'form-control' });
  const to = h('input', { type: 'date', id: 'to', class: 'form-control' });
  const smoothBox = h('input', { type: 'checkbox', id: 'avg7', checked: true, class: 'form-check-input' });
  const live = h('span', { id: 'live-state', class: 'small' }, h('span', { class: 'live-dot', 'aria-hidden': 'true' }), t('live_off'));
  const kpis = h('div', { class: 'kpis mb-4', id: 'kpis' });
  const chartBox = h('div', { class: 'chart-wrap', id: 'curve', role: 'img', 'aria-label': t('curve') });
  const tables = h('div');
  const csvButton = h('button', { type: 'button', class: 'btn btn-outline-primary', id: 'csv', text: t('download_csv') });

  main.append(
    h('h1', { class: 'h2', text: t('nav_dashboard') }),
    h('form', { class: 'row g-3 align-items-end mb-3', onsubmit: async (e) => {
      e.preventDefault();
      range = { from: from.value, to: to.value };
      if (seriesFrom && range.from < seriesFrom) { seriesFrom = null; await load(); }  // older than what was read
      draw();
    } },
      h('div', { class: 'col-auto form-group mb-0' }, h('label', { for: 'from', class: 'active', text: t('from') }), from),
      h('div', { class: 'col-auto form-group mb-0' }, h('label', { for: 'to', class: 'active', text: t('to') }), to),
      h('div', { class: 'col-auto form-check' }, smoothBox, h('label', { for: 'avg7', class: 'form-check-label', text: t('avg7') })),
      h('div', { class: 'col-auto' }, h('button', { type: 'submit', class: 'btn btn-primary', text: t('apply') })),
      h('div', { class: 'col-auto' }, csvButton),
      h('div', { class: 'col-auto' }, h('span', { class: 'visually-hidden', text: t('live') }), live)),
    kpis, section('curve', chartBox), tables);
  smoothBox.addEventListener('change', () => { smooth = smoothBox.checked; draw(); });
  csvButton.addEventListener('click', async () => {
    const r = range || defaults();
    const { body } = await get('/v1/views/region/daily.csv', { from: r.from, to: r.to });
    const a = h('a', { href: URL.createObjectURL(new Blob([body], { type: 'text/csv' })), download: `dpc-piemonte-${r.from}-${r.to}.csv` });
    document.body.append(a); a.click(); a.remove();
  });

  function defaults() {
    // The last day something happened (a swab or a case), so a store of past data opens on its curve.
    const d = region.daily;
    let i = d.length - 1;
    while (i > 0 && d[i].tamponi === d[i - 1].tamponi && d[i].totale_casi === d[i - 1].totale_casi && d[i].totale_positivi === d[i - 1].totale_positivi) i--;
    const last = i >= 0 ? day(d[i]) : new Date().toISOString().slice(0, 10);
    return { from: addDays(last, -89), to: last };
  }

  // The series runs to today: a live registry reads only its recent months; a store of past
  // data (no activity lately) falls back to the whole series once, and keeps reading it.
  let seriesFrom = addDays(new Date().toISOString().slice(0, 10), -119);
  const active = (d) => d.some((x, i) => i > 0 && (x.tamponi !== d[i - 1].tamponi || x.totale_casi !== d[i - 1].totale_casi));
  async function loadRegion() {
    region = (await get('/v1/views/region', { from: seriesFrom || undefined })).body;
    if (seriesFrom && !active(region.daily)) {
      seriesFrom = null;
      region = (await get('/v1/views/region')).body;
    }
  }
  async function loadMunicipalities() {
    const r = range || defaults();
    municipalities = (await get('/v1/views/municipalities', { day: r.to })).body;
  }
  async function load() { await loadRegion(); await loadMunicipalities(); }

  function draw() { drawCurve(); drawTables(); }

  function drawCurve() {
    const r = range || defaults();
    from.value = r.from; to.value = r.to;
    const daily = region.daily.filter((d) => day(d) >= r.from && day(d) <= r.to);
    const s = series(daily);
    const last = daily[daily.length - 1] || {};
    kpis.replaceChildren(...[
      ['new_positives', last.nuovi_positivi], ['currently_positive', last.totale_positivi], ['hospitalised', last.ricoverati_con_sintomi],
      ['icu', last.terapia_intensiva], ['total', last.totale_casi], ['swabs', last.tamponi],
    ].map(([k, v]) => h('div', { class: 'kpi', 'data-kpi': k }, h('div', { class: 'small', text: t(k) }), h('div', { class: 'value', text: number(v) }))));
    kpis.append(h('p', { class: 'small text-muted w-100 mb-0', id: 'position' }, `${t('updated')} ${region.position} · ${last.data ? day(last) : ''}`));
    const width = Math.max(320, chartBox.clientWidth || main.clientWidth || 900);
    const maybe = (values, label) => (smooth ? [{ label, values, dash: [4, 4] }, { label: `${label} (7 gg)`, values: avg7(values) }] : [{ label, values }]);
    charts.splice(0).forEach((c) => c.destroy());
    const wraps = [h('div'), h('div'), h('div')];
    chartBox.replaceChildren(...wraps);
    charts.push(chart(wraps[0], `${t('new_positives')} / ${t('swabs')}`, s.x,
      [...maybe(s.new_positives, t('new_positives')), { label: t('swabs'), values: smooth ? avg7(s.swabs) : s.swabs, scale: 'r' }], width));
    charts.push(chart(wraps[1], t('positivity'), s.x, maybe(s.positivity, t('positivity')).map((l) => ({ ...l, digits: 1 })), width));
    charts.push(chart(wraps[2], `${t('currently_positive')} · ${t('hospitalised')} · ${t('icu')}`, s.x, [
      { label: t('currently_positive'), values: s.currently_positive }, { label: t('hospitalised'), values: s.hospitalised, scale: 'r' },
      { label: t('icu'), values: s.icu, scale: 'r' }], width));
    chartBox.dataset.drawn = String(daily.length);
  }

  function drawTables() {
    const r = range || defaults();
    const rows = municipalities.municipalities;
    tables.replaceChildren(
      section('asl_table', dataTable({ id: 'asl', caption: t('asl_table'), columns: areaColumns(), rows: totals(rows, 'asl') })),
      section('province_table', dataTable({ id: 'provinces', caption: t('province_table'), columns: areaColumns(), rows: totals(rows, 'province') })),
      section('municipality_table', dataTable({ id: 'municipalities', caption: `${t('municipality_table')} · ${r.to}`, searchKeys: ['name', 'istat'], pageSize: 50,
        columns: [
          { key: 'name', label: t('name') }, { key: 'istat', label: 'ISTAT' }, { key: 'province', label: 'Prov.' }, { key: 'asl', label: 'ASL' },
          { key: 'population', label: t('population'), numeric: true },
          { key: 'currently_positive', label: t('currently_positive'), numeric: true },
          { key: 'new_positives_7d', label: `${t('new_positives')} 7 gg`, numeric: true },
          { key: 'incidence_7d_per_100k', label: t('incidence'), numeric: true, digits: 1 },
        ], rows })));
  }

  // The curve first: the municipality table's day is the series' last active day, so its
  // view is read after the region's, while the curve is already on screen.
  await loadRegion();
  await new Promise((r) => (window.uPlot ? r() : window.addEventListener('load', r, { once: true })));
  drawCurve();
  performance.measure('dashboard-drawn', { start: started });
  document.body.dataset.dashboardMs = String(Math.round(performance.now() - started));
  await loadMunicipalities();
  drawTables();

  let pending = null;
  const stop = stream('region,municipalities', () => {
    clearTimeout(pending);
    pending = setTimeout(async () => { await load(); draw(); }, 250);  // one reload per burst of changes
  }, (state) => {
    live.lastChild.textContent = state === 'open' ? t('live_on') : t('live_off');
    live.firstChild.classList.toggle('on', state === 'open');
    live.dataset.state = state;
  });
  return () => { stop(); clearTimeout(pending); charts.forEach((c) => c.destroy()); };
}
