// The API client: every call of the console goes through here. Bearer token from auth.js,
// JSON in and out, problem+json turned into an ApiError whose `fields` map a field name to
// its message (so forms can put each error beside its input), an Idempotency-Key per
// submission, If-Match when the caller knows the version, and the change stream read with
// fetch (EventSource cannot send an Authorization header).

let tokenSource = () => null;
export function setTokenSource(fn) { tokenSource = fn; }

export class ApiError extends Error {
  constructor(status, problem) {
    super(problem.detail || problem.title || `HTTP ${status}`);
    this.status = status;
    this.problem = problem;
    this.fields = {};
    for (const e of problem.errors || []) this.fields[e.field || ''] = e.message;
  }
}

function headers(extra = {}) {
  const h = { Accept: 'application/json', ...extra };
  const token = tokenSource();
  if (token) h.Authorization = `Bearer ${token}`;
  return h;
}

async function answer(res) {
  const type = res.headers.get('content-type') || '';
  if (!res.ok) {
    let problem = { title: res.statusText, status: res.status };
    if (type.includes('json')) problem = await res.json().catch(() => problem);
    throw new ApiError(res.status, problem);
  }
  const body = type.includes('json') ? await res.json() : await res.text();
  return { body, etag: res.headers.get('etag'), position: Number(res.headers.get('x-position') || 0), status: res.status };
}

export async function get(path, params = {}) {
  const q = new URLSearchParams(Object.entries(params).filter(([, v]) => v !== undefined && v !== ''));
  const url = q.toString() ? `${path}?${q}` : path;
  return answer(await fetch(url, { headers: headers() }));
}

// A fresh key per submission: a retry of the same submission reuses it (the caller keeps it),
// so a double click or a lost answer makes one event.
export function newIdempotencyKey() { return crypto.randomUUID(); }

export async function send(method, path, body, { idempotencyKey, ifMatch, contentType = 'application/json', params } = {}) {
  const extra = { 'Content-Type': contentType };
  if (idempotencyKey) extra['Idempotency-Key'] = idempotencyKey;
  if (ifMatch) extra['If-Match'] = ifMatch;
  const q = params ? `?${new URLSearchParams(params)}` : '';
  const res = await fetch(path + q, {
    method, headers: headers(extra),
    body: body === undefined ? undefined : contentType === 'application/json' ? JSON.stringify(body) : body,
  });
  return answer(res);
}

export const post = (path, body, opts) => send('POST', path, body, opts);
export const del = (path, opts) => send('DELETE', path, undefined, opts);

// Reads /v1/views/stream and calls onChange({view, key, position}) per `change` event until
// the returned stop() is called; reconnects after a drop with a growing pause.
export function stream(views, onChange, onState = () => {}) {
  let stopped = false;
  let controller = null;
  let pause = 500;
  async function run() {
    while (!stopped) {
      controller = new AbortController();
      try {
        const res = await fetch(`/v1/views/stream?views=${encodeURIComponent(views)}`,
          { headers: headers({ Accept: 'text/event-stream' }), signal: controller.signal });
        if (!res.ok) throw new ApiError(res.status, { title: res.statusText });
        onState('open');
        pause = 500;
        const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
        let buffer = '';
        for (;;) {
          const { value, done } = await reader.read();
          if (done) break;
          buffer += value;
          let cut;
          while ((cut = buffer.indexOf('\n\n')) >= 0) {
            const frame = buffer.slice(0, cut);
            buffer = buffer.slice(cut + 2);
            const data = frame.split('\n').filter((l) => l.startsWith('data:')).map((l) => l.slice(5).trim()).join('\n');
            if (data) { try { onChange(JSON.parse(data)); } catch { /* not a change frame */ } }
          }
        }
      } catch (e) {
        if (stopped) return;
        onState('closed', e);
      }
      await new Promise((r) => setTimeout(r, pause));
      pause = Math.min(pause * 2, 10000);
    }
  }
  run();
  return () => { stopped = true; controller?.abort(); };
}
