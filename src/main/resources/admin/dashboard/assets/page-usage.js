// Gatehouse admin dashboard: the Usage page (per key and model, per day, as charts and a table).
// Copyright the Gatehouse authors. SPDX-License-Identifier: Apache-2.0

import {api, withQuery} from './api.js';
import {h, fill, num, table, field, copyBlock} from './dom.js';
import {mountChart, barChart} from './charts.js';
import {empty, gatewayBase, exampleCurl} from './common.js';

const MAX_GROUPS = 7;

function daysAgo(n) {
  const d = new Date(Date.now() - n * 86400000);
  return d.toISOString().slice(0, 10);
}

export async function render(ctx) {
  const since = /^\d{4}-\d{2}-\d{2}$/.test(ctx.query.get('since') || '') ? ctx.query.get('since')
    : daysAgo(13);
  const key = ctx.query.get('key') || '';
  const metric = ctx.query.get('metric') === 'tokens' ? 'tokens' : 'requests';

  const fSince = field('usage-since', 'Since (UTC day)', {type: 'date', value: since});
  const fKey = field('usage-key', 'Key id', {value: key, placeholder: 'all keys'});
  const fMetric = field('usage-metric', 'Measure', {tag: 'select', value: metric,
    options: [['requests', 'Requests'], ['tokens', 'Tokens (in + out)']]});
  const form = h('form', {id: 'usage-form', class: 'filters'}, fSince, fKey, fMetric,
    h('div', {class: 'field actions'}, h('button', {type: 'submit', id: 'usage-submit'}, 'Show')));
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    const q = new URLSearchParams();
    if (fSince.input.value) q.set('since', fSince.input.value);
    if (fKey.input.value.trim()) q.set('key', fKey.input.value.trim());
    q.set('metric', fMetric.input.value);
    ctx.go('#/usage?' + q.toString());
  });
  const body = h('div', {'aria-busy': 'true'}, h('p', {class: 'muted'}, 'Loading\u2026'));
  ctx.root.append(ctx.title('Usage'), form, body);

  const res = await api('GET', withQuery('/api/v1/usage', {since, key}));
  if (!ctx.alive()) return;
  body.removeAttribute('aria-busy');
  const rows = (res && Array.isArray(res.rows)) ? res.rows : [];
  if (!rows.length) {
    fill(body, empty('usage-empty', `No usage recorded since ${since}${key ? ' for key ' + key : ''}. ` +
      'Requests appear here once they are answered; try this curl with a key from the Keys page:',
    copyBlock('empty-curl', 'Example request', exampleCurl(gatewayBase(res, ctx.lastCurl())),
      ctx.announce)));
    return;
  }
  const value = (r) => metric === 'tokens'
    ? Math.max(0, Number(r.tokens_in) || 0) + Math.max(0, Number(r.tokens_out) || 0)
    : Number(r.requests) || 0;
  const days = dayRange(rows.map((r) => r.day).filter(Boolean));
  const byKey = h('div', {id: 'usage-by-key-chart', class: 'chart-box'});
  const byModel = h('div', {id: 'usage-by-model-chart', class: 'chart-box'});
  fill(body,
    h('div', {class: 'grid2'},
      h('section', {class: 'card', 'aria-label': 'By key'}, h('h2', null, metricName(metric) + ' per key'), byKey),
      h('section', {class: 'card', 'aria-label': 'By model'}, h('h2', null, metricName(metric) + ' per model'), byModel)),
    h('section', {class: 'card', 'aria-label': 'Usage rows'}, h('h2', null, 'Rows'), usageTable(rows)));
  mountChart(byKey, (w) => barChart(w, stack(rows, days, (r) => r.key_id == null ? '(no key)' : r.key_id,
    value, metricName(metric) + ' per key per day')));
  mountChart(byModel, (w) => barChart(w, stack(rows, days, (r) => r.model || '(no model)',
    value, metricName(metric) + ' per model per day')));
}

function metricName(metric) {
  return metric === 'tokens' ? 'Tokens' : 'Requests';
}

/** Every day from the first to the last one seen, so gaps show as empty bars. */
function dayRange(days) {
  if (!days.length) return ['all'];
  const sorted = [...new Set(days)].sort();
  const out = [];
  const end = Date.parse(sorted[sorted.length - 1] + 'T00:00:00Z');
  for (let t = Date.parse(sorted[0] + 'T00:00:00Z'); t <= end && out.length < 400; t += 86400000) {
    out.push(new Date(t).toISOString().slice(0, 10));
  }
  return out.length ? out : sorted;
}

/** Stacks rows per day by a grouping; the biggest groups are kept and the rest is "other". */
function stack(rows, days, groupOf, value, title) {
  const totals = new Map();
  for (const r of rows) totals.set(groupOf(r), (totals.get(groupOf(r)) || 0) + value(r));
  let groups = [...totals.entries()].sort((a, b) => b[1] - a[1]).map(([g]) => g);
  const other = groups.length > MAX_GROUPS;
  if (other) groups = groups.slice(0, MAX_GROUPS - 1).concat(['other']);
  const index = new Map(groups.map((g, i) => [g, i]));
  const dayIndex = new Map(days.map((d, i) => [d, i]));
  const values = days.map(() => groups.map(() => 0));
  for (const r of rows) {
    const di = dayIndex.has(r.day) ? dayIndex.get(r.day) : 0;
    const g = groupOf(r);
    const gi = index.has(g) ? index.get(g) : groups.length - 1;
    values[di][gi] += value(r);
  }
  return {title, categories: days.map((d) => d.slice(5)), groups, values};
}

function usageTable(rows) {
  const sorted = [...rows].sort((a, b) => String(b.day || '').localeCompare(String(a.day || ''))
    || (Number(b.requests) || 0) - (Number(a.requests) || 0));
  const sum = (f) => rows.reduce((a, r) => a + Math.max(0, Number(r[f]) || 0), 0);
  const body = sorted.map((r) => h('tr', {'data-testid': 'usage-row', dataset: {keyId: r.key_id, day: r.day}},
    h('td', null, r.day || '\u2014'),
    h('td', null, r.key_id == null ? '(no key)'
      : h('a', {href: '#/audit?key=' + encodeURIComponent(r.key_id)}, r.key_id)),
    h('td', null, r.model || '\u2014'),
    h('td', {class: 'num'}, num(r.requests)),
    h('td', {class: 'num'}, tokens(r.tokens_in)),
    h('td', {class: 'num'}, tokens(r.tokens_out))));
  body.push(h('tr', {class: 'total'}, h('th', {scope: 'row', colspan: '3'}, 'Total'),
    h('td', {class: 'num'}, num(sum('requests'))), h('td', {class: 'num'}, num(sum('tokens_in'))),
    h('td', {class: 'num'}, num(sum('tokens_out')))));
  const t = table('Usage per day, key and model', ['Day', 'Key', 'Model', 'Requests', 'Tokens in',
    'Tokens out'], body);
  t.querySelector('table').id = 'usage-table';
  return t;
}

function tokens(v) {
  return Number(v) < 0 ? 'unknown' : num(v);
}
