// Italian first, English on request (the choice kept in localStorage: it is not personal
// data). t(key) looks a string up; elements with data-i18n get their text from it.
const strings = {
  it: {
    skip: 'Vai al contenuto', title: 'Registro casi COVID-19', region: 'Regione Piemonte',
    signin: 'Accedi', signout: 'Esci', signin_oidc: 'Accedi con l\'identità regionale (SPID/CIE)',
    paste_token: 'Token di sviluppo', paste_help: 'Nessun identity provider configurato: incolla un token (ad es. quello stampato da ops/demo).',
    use_token: 'Usa il token', signed_as: 'Utente', grants: 'Le tue abilitazioni', no_grants: 'Nessuna abilitazione: puoi leggere solo il bollettino regionale.',
    not_available: 'Non disponibile per te', not_available_detail: 'Le tue abilitazioni non permettono di aprire questa pagina.',
    nav_dashboard: 'Cruscotto', nav_operator: 'Operatore', nav_lab: 'Laboratorio', nav_gp: 'Medico', nav_school: 'Scuola',
    nav_mayor: 'Sindaco', nav_auditor: 'Revisore', nav_admin: 'Amministrazione', nav_me: 'Profilo',
    lang_switch: 'English', lang_label: 'Lingua',
    from: 'Dal', to: 'Al', apply: 'Applica', avg7: 'Medie mobili a 7 giorni', download_csv: 'Scarica CSV (formato DPC)',
    new_positives: 'Nuovi positivi', swabs: 'Tamponi', positivity: 'Positività %', currently_positive: 'Attualmente positivi',
    hospitalised: 'Ricoverati con sintomi', icu: 'Terapia intensiva', curve: 'Curva epidemica regionale',
    live: 'Aggiornamento in tempo reale', live_on: 'attivo', live_off: 'non connesso', updated: 'Aggiornato alla posizione',
    asl_table: 'Aziende sanitarie (ASL)', province_table: 'Province', municipality_table: 'Comuni', search: 'Cerca',
    name: 'Nome', code: 'Codice', incidence: 'Incidenza 7 gg per 100.000', population: 'Popolazione', date: 'Data',
    sort_by: 'Ordina per', total: 'Totale', deaths: 'Deceduti', recovered: 'Guariti', quarantined: 'In quarantena', isolated: 'In isolamento',
    find_person: 'Cerca una persona per codice fiscale', tax_code: 'Codice fiscale', find: 'Cerca', register: 'Registra una persona',
    family_name: 'Cognome', given_names: 'Nome', birth_date: 'Data di nascita', sex: 'Sesso', residence_istat: 'Comune di residenza (ISTAT)',
    address: 'Indirizzo', phone: 'Telefono', submit: 'Invia', saved: 'Registrato', person: 'Persona', state: 'Stato', measures: 'Misure',
    timeline: 'Cronologia del caso', as_of: 'Come lo sapeva il registro il', show: 'Mostra', now: 'Oggi', corrects: 'corregge',
    corrected_by: 'corretto da', swab_request: 'Richiedi un tampone', swab_id: 'Codice campione', kind: 'Tipo', reason: 'Motivo',
    isolation: 'Isolamento', quarantine: 'Quarantena', start: 'Inizio', end: 'Fine', end_measure: 'Chiudi una misura', measure_id: 'Misura',
    at: 'Quando', contacts: 'Contatto', contact_of: 'Contatto di (id persona)', last_exposure: 'Ultima esposizione',
    hospitalisation: 'Ricovero', facility: 'Struttura', closure: 'Chiusura del caso', outcome: 'Esito', conflict: 'Il caso è stato modificato da altri nel frattempo: ricarica e riprova.',
    upload_results: 'Carica i risultati (CSV)', csv_file: 'File CSV (swab_id, outcome, lab_id, reported_at)', upload: 'Carica',
    row: 'Riga', result: 'Esito', lab_view: 'Vista del laboratorio', patients: 'Assistiti', status: 'Stato', classes: 'Classi',
    history: 'Storia di un caso', person_id: 'Id persona', access_report: 'Chi ha letto i dati', chain_tip: 'Catena di hash',
    reader: 'Chi', when: 'Quando', what: 'Cosa', role: 'Ruolo', scope: 'Ambito', user: 'Utente', grant: 'Concedi', revoke: 'Revoca',
    rules: 'Regole', dry_run: 'Simula (what-if)', adopt: 'Adotta', rule_set: 'Insieme di regole (JSON)', rebuilding: 'Ricostruzione delle viste',
    loading: 'Caricamento…', error: 'Errore', none: 'Nessun dato', lt3: '< 3', gp_id: 'Medico', school: 'Scuola', school_code: 'Codice scuola',
    lab_id: 'Laboratorio', istat: 'Comune', events: 'Eventi', position: 'Posizione', hash: 'Hash', done: 'Fatto',
    request_swab_for: 'Richiedi un tampone per', diff: 'Differenze', before: 'Prima', after: 'Dopo', effective_from: 'In vigore dal',
    adopted: 'Adottato', version: 'Versione', all_grants: 'Abilitazioni in vigore',
  },
  en: {
    skip: 'Skip to content', title: 'COVID-19 case registry', region: 'Piedmont Region',
    signin: 'Sign in', signout: 'Sign out', signin_oidc: 'Sign in with the regional identity (SPID/CIE)',
    paste_token: 'Development token', paste_help: 'No identity provider is configured: paste a token (e.g. one that ops/demo printed).',
    use_token: 'Use the token', signed_as: 'User', grants: 'Your grants', no_grants: 'No grants: you may read the regional bulletin only.',
    not_available: 'Not available to you', not_available_detail: 'Your grants do not allow this page.',
    nav_dashboard: 'Dashboard', nav_operator: 'Operator', nav_lab: 'Lab', nav_gp: 'GP', nav_school: 'School',
    nav_mayor: 'Mayor', nav_auditor: 'Auditor', nav_admin: 'Admin', nav_me: 'Profile',
    lang_switch: 'Italiano', lang_label: 'Language',
    from: 'From', to: 'To', apply: 'Apply', avg7: '7-day moving averages', download_csv: 'Download CSV (DPC format)',
    new_positives: 'New positives', swabs: 'Swabs', positivity: 'Positivity %', currently_positive: 'Currently positive',
    hospitalised: 'Hospitalised with symptoms', icu: 'Intensive care', curve: 'Regional epidemic curve',
    live: 'Live updates', live_on: 'on', live_off: 'not connected', updated: 'Up to position',
    asl_table: 'Health authorities (ASL)', province_table: 'Provinces', municipality_table: 'Municipalities', search: 'Search',
    name: 'Name', code: 'Code', incidence: '7-day incidence per 100,000', population: 'Population', date: 'Date',
    sort_by: 'Sort by', total: 'Total', deaths: 'Deaths', recovered: 'Recovered', quarantined: 'In quarantine', isolated: 'In isolation',
    find_person: 'Find a person by tax code', tax_code: 'Tax code', find: 'Find', register: 'Register a person',
    family_name: 'Family name', given_names: 'Given names', birth_date: 'Birth date', sex: 'Sex', residence_istat: 'Municipality of residence (ISTAT)',
    address: 'Address', phone: 'Phone', submit: 'Submit', saved: 'Recorded', person: 'Person', state: 'State', measures: 'Measures',
    timeline: 'Case timeline', as_of: 'As the registry knew it on', show: 'Show', now: 'Today', corrects: 'corrects',
    corrected_by: 'corrected by', swab_request: 'Request a swab', swab_id: 'Sample id', kind: 'Kind', reason: 'Reason',
    isolation: 'Isolation', quarantine: 'Quarantine', start: 'Start', end: 'End', end_measure: 'End a measure', measure_id: 'Measure',
    at: 'When', contacts: 'Contact', contact_of: 'Contact of (person id)', last_exposure: 'Last exposure',
    hospitalisation: 'Hospital', facility: 'Facility', closure: 'Close the case', outcome: 'Outcome', conflict: 'Someone changed this case meanwhile: reload and try again.',
    upload_results: 'Upload results (CSV)', csv_file: 'CSV file (swab_id, outcome, lab_id, reported_at)', upload: 'Upload',
    row: 'Row', result: 'Outcome', lab_view: 'Lab view', patients: 'Patients', status: 'Status', classes: 'Classes',
    history: 'A case history', person_id: 'Person id', access_report: 'Who read the data', chain_tip: 'Hash chain',
    reader: 'Who', when: 'When', what: 'What', role: 'Role', scope: 'Scope', user: 'User', grant: 'Grant', revoke: 'Revoke',
    rules: 'Rules', dry_run: 'Dry run (what-if)', adopt: 'Adopt', rule_set: 'Rule set (JSON)', rebuilding: 'Rebuilding the views',
    loading: 'Loading…', error: 'Error', none: 'No data', lt3: '< 3', gp_id: 'GP', school: 'School', school_code: 'School code',
    lab_id: 'Lab', istat: 'Municipality', events: 'Events', position: 'Position', hash: 'Hash', done: 'Done',
    request_swab_for: 'Request a swab for', diff: 'Differences', before: 'Before', after: 'After', effective_from: 'Effective from',
    adopted: 'Adopted', version: 'Version', all_grants: 'Grants in force',
  },
};

let lang = localStorage.getItem('lang') === 'en' ? 'en' : 'it';

export function t(key) { return strings[lang][key] ?? strings.it[key] ?? key; }
export function currentLang() { return lang; }
export function setLang(next) {
  lang = next === 'en' ? 'en' : 'it';
  localStorage.setItem('lang', lang);
  document.documentElement.lang = lang;
  translate(document);
}
export function translate(root) {
  for (const el of root.querySelectorAll('[data-i18n]')) el.textContent = t(el.dataset.i18n);
}
export function number(n, digits = 0) {
  return n == null ? '–' : Number(n).toLocaleString(lang === 'it' ? 'it-IT' : 'en-GB', { maximumFractionDigits: digits, minimumFractionDigits: digits });
}
