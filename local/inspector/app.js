// The local inspector: the functions' lines, live, grouped by event; the DLQ; sample events. No build, no network.
// Text from requests (ids, reasons) is only ever set as text, never as HTML.

const $ = (id) => document.getElementById(id);

/** An element with attributes (`text` sets its text) and children (strings become text). */
function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (value === undefined || value === null || value === false) continue;
    if (name === 'text') node.textContent = String(value);
    else if (name === 'class') node.className = value;
    else node.setAttribute(name, value === true ? '' : String(value));
  }
  node.append(...children.flat().filter((c) => c !== undefined && c !== null && c !== false && c !== ''));
  return node;
}

const ms = (v) => (typeof v === 'number' ? (v >= 1000 ? `${(v / 1000).toFixed(1)} s` : `${Math.round(v * 10) / 10} ms`) : undefined);
// UTC, as the terminal prints it, so a line here and a line there are found by the same time.
const clock = (ts) => (typeof ts === 'string' ? ts.slice(11, 19) : '--:--:--');
const dot = (...parts) => parts.filter((p) => p !== undefined && p !== false && p !== '').join(' · ');
const str = (v) => (v === undefined || v === null ? '' : String(v));
const searchable = (...values) => values.map(str).join(' ').toLowerCase();

// The timeline, grouped.

/** Ingest outcomes that mean the event went on (queue or DLQ): the request joins the event's journey. */
const EVENT_OUTCOMES = new Set(['queued', 'dead_lettered', 'too_large']);
const FILTERS = [['all', 'All'], ['processed', 'Processed'], ['pending', 'In progress'], ['failed', 'Failed'], ['request', 'Requests'], ['reconcile', 'Reconciliation']];

/** key → { key, kind, lines, node, dirty, group, type, search } */
const items = new Map();
const fresh = [];
let dlqIds = new Set();

function keyOf({ seq, fn, line }) {
  if (fn === 'ingest' && line.message === 'front webhook request') {
    return line.eventId && EVENT_OUTCOMES.has(line.outcome) ? ['event', `e:${line.eventId}`] : ['request', `r:${seq}`];
  }
  if (fn === 'reconcile' && line.message === 'front reconcile run') return ['reconcile', `c:${seq}`];
  if (fn === 'process' && line.eventId) return ['event', `e:${line.eventId}`];
  if (fn === 'process' && line.messageId && String(line.message).startsWith('front event')) return ['event', `m:${line.messageId}`];
  if (line.level === 'ERROR' || line.level === 'WARN') return ['note', `n:${seq}`];
  return [];
}

function add(entry) {
  const [kind, key] = keyOf(entry);
  if (!key) return;
  let item = items.get(key);
  if (!item) {
    item = { key, kind, lines: [] };
    items.set(key, item);
    fresh.push(item);
  }
  item.lines.push({ ...entry.line, fn: entry.fn });
  item.dirty = true;
  if (entry.line.message === 'front event dead-lettered' || (entry.fn === 'ingest' && (entry.line.outcome === 'dead_lettered' || entry.line.outcome === 'too_large'))) refreshDlqSoon();
  scheduleRender();
}

/** What became of an event, from its lines in order: status, filter group, journey steps, facts. */
function describeEvent(lines) {
  const d = { status: 'queued', group: 'pending', tone: 'info', steps: [], attempts: 0 };
  const step = (text, tone = 'info') => d.steps.push({ text, tone });
  const set = (status, group, tone, reason, detail) => Object.assign(d, { status, group, tone, reason, detail });
  for (const l of lines) {
    for (const k of ['eventId', 'eventType', 'conversationId', 'scheme', 'messageId']) d[k] ??= l[k];
    if (l.preview === true) d.preview = true;
    if ((l.arrival === 'recovered' || l.arrival === 'redriven') && d.steps.at(-1)?.arrival !== l.arrival) {
      step(l.arrival === 'recovered' ? "recovered from Front's events API" : 'redriven from the DLQ');
      d.steps.at(-1).arrival = l.arrival;
    }
    if (l.arrival) d.arrival = l.arrival;
    if (typeof l.attempt === 'number') d.attempts = Math.max(d.attempts, l.attempt);
    switch (l.message) {
      case 'front webhook request':
        step(dot(`received ${l.status}`, ms(l.durationMs)), l.status >= 400 ? 'warn' : 'ok');
        if (l.outcome === 'queued') step('queued');
        else {
          set('dead-lettered', 'failed', 'bad', l.reason, l.detail);
          step(dot('dead-lettered by ingest', l.reason), 'bad');
        }
        break;
      case 'front event processed':
        set('processed', 'processed', 'ok');
        step(dot('processed', l.handler && `handler ${l.handler}`, ms(l.durationMs), ms(l.lagMs) && `lag ${ms(l.lagMs)}`, l.hydrated && 'hydrated'), 'ok');
        break;
      case 'front event failed': {
        // Failed attempts in a row make one step: failed ×n, with the last attempt's facts (each is in the lines).
        const n = (d.steps.at(-1)?.failures ?? 0) + 1;
        if (n > 1) d.steps.pop();
        step(dot(n > 1 ? `failed ×${n}` : 'failed', `attempt ${l.attempt ?? '?'}/${l.maxAttempts ?? '?'}`, ms(l.durationMs), l.willRetry ? `retry in ${l.retryInSeconds ?? '?'} s` : 'no retry left'), 'bad');
        d.steps.at(-1).failures = n;
        set(l.willRetry ? 'retrying' : 'failed', l.willRetry ? 'pending' : 'failed', 'bad', l.reason);
        break;
      }
      case 'front event dead-lettered':
        set('dead-lettered', 'failed', 'bad', l.reason, l.detail);
        step(dot('dead-lettered', l.reason, typeof l.attempts === 'number' && `after ${l.attempts} attempts`), 'bad');
        break;
      case 'front event skipped':
        if (d.status !== 'processed') set('skipped', 'processed', 'warn');
        step(dot('skipped: already processed', l.firstProcessedAt && clock(l.firstProcessedAt)), 'warn');
        break;
      case 'front event deferred':
        set('deferred', 'pending', 'warn', l.reason, l.detail);
        step(dot('deferred', l.reason, `retry in ${l.retryInSeconds ?? '?'} s`), 'warn');
        break;
      default:
        if (String(l.message).startsWith('front event')) step(dot(String(l.message).slice(12), l.reason), l.level === 'INFO' ? 'info' : 'bad');
    }
  }
  return d;
}

// Rendering.

const SKIP_FIELDS = new Set(['fn', 'level', 'message', 'timestamp', 'service', 'sampling_rate', 'function_request_id', 'cold_start', 'xray_trace_id']);

/** Every line of an item, folded: time, function, message and all other fields, as text. */
function linesDetail(lines) {
  return el('details', {},
    el('summary', { text: `${lines.length} log line${lines.length === 1 ? '' : 's'}` }),
    el('ul', { class: 'lines' }, lines.map((l) => el('li', {},
      `${clock(l.timestamp)} `, el('b', { text: `${l.fn} ` }), str(l.message),
      Object.entries(l).filter(([k]) => !SKIP_FIELDS.has(k)).map(([k, v]) => el('span', { class: 'field' }, ` ${k}=`, el('code', { text: typeof v === 'string' ? v : JSON.stringify(v) })))))));
}

function head(first, badge, tone, ...rest) {
  return el('div', { class: 'head' }, el('time', { title: first.timestamp, text: clock(first.timestamp) }), el('span', { class: `badge tone-${tone}`, text: badge }), ...rest);
}

const reasonLine = (reason, detail) => reason !== undefined && el('p', { class: 'reason' }, el('strong', { text: str(reason) }), detail !== undefined && `: ${str(detail)}`);

function renderEvent(item) {
  const d = describeEvent(item.lines);
  const id = d.eventId ?? d.messageId;
  Object.assign(item, { group: d.group, type: d.eventType, search: searchable(id, d.conversationId, d.eventType, d.reason, d.detail, d.status) });
  return el('li', { class: `item event tone-${d.tone}`, 'data-status': d.status, 'data-event-id': d.eventId },
    head(item.lines[0], d.status, d.tone,
      el('span', { class: 'type', text: d.eventType ?? 'unknown type' }),
      el('code', { class: 'id', text: id ?? '' }),
      d.conversationId && el('code', { class: 'conv', title: 'conversation', text: d.conversationId }),
      el('span', { class: 'tags' }, dot(d.scheme, d.preview && 'preview', d.arrival && d.arrival !== 'webhook' && d.arrival, d.attempts > 1 && `${d.attempts} attempts`)),
      d.eventId && dlqIds.has(d.eventId) && el('span', { class: 'pill tone-bad', text: 'in DLQ' })),
    el('ol', { class: 'journey', 'aria-label': 'journey' }, d.steps.map((s) => el('li', { class: `tone-${s.tone}`, text: s.text }))),
    reasonLine(d.reason, d.detail),
    linesDetail(item.lines));
}

function renderRequest(item) {
  const l = item.lines[0];
  // A body ingest kept in the DLQ (signed, not an event) failed; a refusal (401, 404, 503…) is a request's own.
  const kept = l.outcome === 'dead_lettered' || l.outcome === 'too_large';
  const tone = l.status >= 500 ? 'bad' : l.status >= 400 || kept ? 'warn' : 'ok';
  const group = kept ? 'failed' : l.status >= 400 ? 'request' : 'other';
  Object.assign(item, { group, type: l.eventType, search: searchable(l.eventId, l.eventType, l.reason, l.detail, l.outcome, l.status) });
  return el('li', { class: `item request tone-${tone}`, 'data-status': str(l.outcome) },
    head(l, `${l.status} ${str(l.outcome)}`, tone,
      el('span', { class: 'type', text: 'request' }),
      l.eventId && el('code', { class: 'id', title: 'claimed by the body, not verified', text: l.eventId }),
      el('span', { class: 'tags' }, dot(l.scheme, typeof l.bytes === 'number' && `${l.bytes}\u00a0B`, ms(l.durationMs)))),
    reasonLine(l.reason, l.detail),
    linesDetail(item.lines));
}

function renderReconcile(item) {
  const l = item.lines[0];
  const done = l.complete === true;
  Object.assign(item, { group: 'reconcile', search: searchable('reconcile', l.stoppedBecause, l.detail) });
  return el('li', { class: `item reconcile tone-${done ? 'info' : 'warn'}` },
    head(l, 'reconcile run', done ? 'info' : 'warn', el('span', { class: 'tags' }, dot(`seen ${l.seen ?? 0}`, `already processed ${l.alreadyProcessed ?? 0}`, l.alreadyFailing > 0 && `failing ${l.alreadyFailing}`,
      `recovered ${l.enqueued ?? 0}`, done && `complete through ${clock(l.watermark)}`))),
    !done && reasonLine(`stopped: ${str(l.stoppedBecause)}`, l.detail),
    linesDetail(item.lines));
}

function renderNote(item) {
  const l = item.lines[0];
  const tone = l.level === 'ERROR' ? 'bad' : 'warn';
  Object.assign(item, { group: 'other', search: searchable(l.message, l.reason, l.detail) });
  return el('li', { class: `item note tone-${tone}` }, head(l, str(l.level).toLowerCase(), tone, el('span', { class: 'type', text: `${l.fn}: ${str(l.message)}` })), reasonLine(l.reason, l.detail), linesDetail(item.lines));
}

const RENDER = { event: renderEvent, request: renderRequest, reconcile: renderReconcile, note: renderNote };

function matches(item, { status, type, text }) {
  return (status === 'all' || item.group === status) && (!type || item.type === type) && (!text || item.search.includes(text));
}

function currentFilter() {
  return {
    status: document.querySelector('input[name="status"]:checked')?.value ?? 'all',
    type: $('filter-type').value,
    text: $('filter-text').value.trim().toLowerCase(),
  };
}

let renderTimer;
function scheduleRender() {
  renderTimer ??= setTimeout(render, 30);
}

/** Rebuilds the items whose lines changed, adds the new ones on top, then applies the filters and counts. */
function render() {
  renderTimer = undefined;
  const filter = currentFilter();
  const counts = { all: items.size };
  let shown = 0;
  for (const item of items.values()) {
    if (item.dirty) {
      item.dirty = false;
      const node = RENDER[item.kind](item);
      if (item.node) {
        // Keep what the reader opened, and their focus, across a re-render.
        if (item.node.querySelector('details')?.open) node.querySelector('details').open = true;
        const focused = item.node.contains(document.activeElement);
        item.node.replaceWith(node);
        if (focused) node.querySelector('summary')?.focus();
      }
      item.node = node;
    }
    item.node.hidden = !matches(item, filter);
    if (!item.node.hidden) shown += 1;
    counts[item.group] = (counts[item.group] ?? 0) + 1;
  }
  $('items').prepend(...fresh.splice(0).reverse().map((item) => item.node));
  for (const [value] of FILTERS) $(`count-${value}`).textContent = String(counts[value] ?? 0);
  $('shown').textContent = items.size === 0 ? 'Nothing yet: send a sample event, or POST to the webhook URL.'
    : `${shown} of ${items.size} shown${filter.status !== 'all' || filter.type || filter.text ? ' (filtered)' : ''}.`;
}

// The live stream.

let source;
function connect() {
  // A fresh connection replays every kept line, so a restarted stack (its numbering starts again) is shown whole.
  for (const item of items.values()) item.node?.remove();
  items.clear();
  fresh.length = 0;
  source = new EventSource('/_local/stream');
  source.onopen = () => paint('connection', 'live', 'pill tone-ok');
  source.onmessage = (message) => add(JSON.parse(message.data));
  source.onerror = () => {
    source.close();
    paint('connection', 'stack unreachable: retrying…', 'pill tone-bad');
    setTimeout(() => { connect(); refreshDlq(); }, 2000);
  };
  scheduleRender();
}

/** Sets an element's text and class. */
function paint(id, text, className) {
  Object.assign($(id), { textContent: text, className });
}

// Calls to the inspector's API.

async function call(path, body) {
  const response = await fetch(path, body === undefined ? {} : { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) })
    .catch(() => { throw new Error(`The local stack does not answer ${path}: is npm start still running?`); });
  const json = await response.json().catch(() => ({}));
  if (!response.ok) throw new Error(`${path} answered ${response.status}: ${json.message ?? response.statusText}`);
  return json;
}

const notify = (text, tone = 'info') => paint('notice', text, `notice tone-${tone}`);

/** The webhook URL and Front's event types, once: a restarted stack has the same (the page's URL is its port). */
async function loadInfo() {
  const { url, types } = await call('/_local/info');
  $('webhook-url').textContent = url;
  const options = () => types.map((t) => el('option', { value: t, text: t, selected: t === 'inbound' }));
  $('send-type').replaceChildren(...options());
  $('filter-type').append(...options());
  $('filter-type').value = '';
}

async function send(event) {
  event.preventDefault();
  const { type, scheme, preview, count, mode } = Object.fromEntries(new FormData(event.target));
  const request = { type, scheme, preview: preview === 'on', count: Number(count) || 1, missed: mode === 'missed', deadLetter: mode === 'deadLetter' };
  await busy($('send'), async () => {
    const { results } = await call('/_local/send', request);
    const ids = results.map((r) => r.eventId).filter(Boolean).join(', ');
    const kinds = new Set(results.map((r) => r.kind));
    if (kinds.has('dead_lettered')) {
      notify(`Put ${results.length} dead letter(s) in the DLQ: ${ids}.`, 'ok');
      refreshDlq();
    } else if (kinds.has('recorded')) {
      notify(`Recorded ${results.length} event(s) in the fake Front API only: ${ids}. A reconciliation run recovers them.`, 'ok');
    } else {
      const refused = results.filter((r) => r.status >= 300);
      notify(refused.length ? `The webhook answered ${refused[0].status}: ${refused[0].body}` : `Sent ${results.length} ${request.type} event(s), answered ${results[0]?.status}: ${ids}`, refused.length ? 'bad' : 'ok');
    }
  });
}

/** Runs `action` with `button` disabled, reporting a failure in the notice. */
async function busy(button, action) {
  button.disabled = true;
  try {
    await action();
  } catch (error) {
    notify(error.message, 'bad');
  } finally {
    button.disabled = false;
  }
}

// The DLQ. Reading it peeks (receive, then release): one DLQ call at a time, so a peek never hides a letter from a redrive.
let dlqChain = Promise.resolve();
const dlqTask = (task) => (dlqChain = dlqChain.then(task).catch((error) => notify(error.message, 'bad')));

let dlqTimer;
function refreshDlqSoon() {
  clearTimeout(dlqTimer);
  dlqTimer = setTimeout(refreshDlq, 300);
}

function refreshDlq() {
  return dlqTask(async () => showLetters((await call('/_local/dlq')).letters));
}

function redrive(body, button) {
  return busy(button, () => dlqTask(async () => {
    const { redriven, skipped } = await call('/_local/dlq/redrive', body);
    const why = skipped.map((s) => `${s.eventId ?? s.messageId}: ${s.why}`).join('; ');
    notify(dot(`Redrove ${redriven.length} letter(s) to the queue${redriven.length ? `: ${redriven.map((r) => r.eventId ?? r.messageId).join(', ')}` : ''}`, skipped.length && `skipped ${why}`), skipped.length ? 'warn' : 'ok');
    showLetters((await call('/_local/dlq')).letters);
  }));
}

function showLetters(letters) {
  dlqIds = new Set(letters.map((l) => l.eventId).filter(Boolean));
  paint('dlq-count', String(letters.length), `pill tone-${letters.length ? 'bad' : 'ok'}`);
  $('dlq-empty').hidden = letters.length > 0;
  $('dlq-letters').replaceChildren(...letters.map((l) => {
    const id = l.eventId ?? l.messageId;
    const button = el('button', { type: 'button', 'aria-label': `Redrive ${id}`, text: 'Redrive' });
    button.addEventListener('click', () => redrive({ ids: [id] }, button));
    return el('li', { class: 'letter', 'data-event-id': l.eventId },
      el('div', { class: 'head' }, el('code', { class: 'id', text: id }), el('span', { class: 'type', text: l.eventType ?? 'unknown type' }), l.conversationId && el('code', { class: 'conv', text: l.conversationId })),
      el('p', {}, el('strong', { text: str(l.reason) }), ' · ', dot(typeof l.attempts === 'number' && `after ${l.attempts} attempts`, `received ${clock(l.receivedAt)}`, l.scheme, typeof l.bytes === 'number' && `${l.bytes}\u00a0B`)),
      l.detail && el('p', { class: 'detail', text: l.detail }),
      button);
  }));
  for (const item of items.values()) item.dirty ||= item.kind === 'event'; // their "in DLQ" marks
  scheduleRender();
}

// Start.

$('status-filter').append(...FILTERS.map(([value, label]) => el('label', {},
  el('input', { type: 'radio', name: 'status', value, checked: value === 'all' }), ` ${label} `, el('span', { class: 'count', id: `count-${value}`, text: '0' }))));
$('filters').addEventListener('input', render);
$('filters').addEventListener('submit', (e) => e.preventDefault());
$('send-form').addEventListener('submit', send);
$('reconcile').addEventListener('click', (e) => busy(e.currentTarget, async () => {
  await call('/_local/reconcile', {});
  notify('Reconciliation run finished: its line is in the list.', 'ok');
}));
$('dlq-refresh').addEventListener('click', (e) => busy(e.currentTarget, refreshDlq));
$('dlq-redrive-all').addEventListener('click', (e) => redrive({ all: true }, e.currentTarget));
connect();
loadInfo().catch((error) => notify(error.message, 'bad'));
refreshDlq();
