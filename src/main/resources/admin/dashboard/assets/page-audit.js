// Gatehouse admin dashboard: Audit search (#/audit?filters) and one record (#/audit/SEQ).
// Copyright the Gatehouse authors. SPDX-License-Identifier: Apache-2.0
//
// The filters live in the URL, so a search can be bookmarked, shared and reached from a link on
// another page (a refusal reason, a key, an address).

import {api, withQuery} from './api.js';
import {h, fill, when, table, field} from './dom.js';
import {badge, empty, isRefusal, reasonOf} from './common.js';

const FILTERS = ['key', 'ip', 'status', 'reason', 'since', 'until', 'limit'];

export async function render(ctx) {
  if (ctx.rest.length) return renderRecord(ctx, ctx.rest[0]);
  const q = {};
  for (const f of FILTERS) q[f] = ctx.query.get(f) || '';
  if (!q.limit) q.limit = '100';

  const fields = {
    key: field('audit-key', 'Key id', {value: q.key}),
    ip: field('audit-ip', 'Address', {value: q.ip}),
    status: field('audit-status', 'Status', {value: q.status, placeholder: '401', inputmode: 'numeric'}),
    reason: field('audit-reason', 'Reason', {value: q.reason, placeholder: 'auth.key_invalid'}),
    since: field('audit-since', 'Since', {value: q.since, placeholder: '2026-05-01T00:00:00Z'}),
    until: field('audit-until', 'Until', {value: q.until, placeholder: '2026-05-02T00:00:00Z'}),
    limit: field('audit-limit', 'At most', {value: q.limit, inputmode: 'numeric'}),
  };
  const reset = h('button', {type: 'button', id: 'audit-reset', class: 'secondary'}, 'Clear');
  reset.addEventListener('click', () => ctx.go('#/audit'));
  const form = h('form', {id: 'audit-form', class: 'filters', 'aria-label': 'Search the audit log'},
    Object.values(fields), h('div', {class: 'field actions'},
      h('button', {type: 'submit', id: 'audit-submit'}, 'Search'), reset));
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    const p = new URLSearchParams();
    for (const f of FILTERS) {
      const v = fields[f].input.value.trim();
      if (v) p.set(f, v);
    }
    const qs = p.toString();
    ctx.go(qs ? '#/audit?' + qs : '#/audit');
  });

  const head = [];
  const verifyResult = h('div', {id: 'audit-verify-result', 'aria-live': 'polite'});
  if (ctx.can('operator')) {
    const verify = h('button', {type: 'button', id: 'audit-verify', class: 'secondary'}, 'Verify chain');
    verify.addEventListener('click', async () => {
      verify.disabled = true;
      fill(verifyResult, h('p', {class: 'muted'}, 'Verifying\u2026'));
      try {
        const r = await api('POST', '/api/v1/audit/verify');
        const problems = (r && r.problems) || [];
        fill(verifyResult, h('div', {class: r && r.ok ? 'ok-box' : 'error', role: 'status'},
          r && r.ok ? `The chain holds: ${r.records} records verified.`
            : `The chain does not verify (${r ? r.records : '?'} records read):`,
          problems.length ? h('ul', null, problems.map((p) => h('li', null,
            typeof p === 'string' ? p : JSON.stringify(p)))) : null));
      } catch (ex) {
        fill(verifyResult);
        ctx.fail(ex, verifyResult);
      } finally {
        verify.disabled = false;
      }
    });
    head.push(verify);
  }
  const results = h('div', {id: 'audit-results', 'aria-busy': 'true'}, h('p', {class: 'muted'}, 'Loading\u2026'));
  ctx.root.append(ctx.title('Audit', head), verifyResult, form, results);

  const res = await api('GET', withQuery('/api/v1/audit', q));
  if (!ctx.alive()) return;
  results.removeAttribute('aria-busy');
  const records = (res && res.records) || [];
  const filtered = FILTERS.some((f) => f !== 'limit' && q[f]);
  if (!records.length) {
    fill(results, empty('audit-empty', filtered ? 'No record matches these filters.'
      : 'The audit log is empty: no request has been answered yet.'));
    return;
  }
  const rows = records.map((r) => {
    const refused = isRefusal(r);
    const rec = r.record || {};
    return h('tr', {'data-testid': 'audit-row', class: refused ? 'refused' : null,
      dataset: {seq: r.seq, refused: String(refused)}},
    h('td', null, h('a', {href: '#/audit/' + encodeURIComponent(r.seq), 'data-testid': 'audit-link',
      'aria-label': `Record ${r.seq}`}, String(r.seq))),
    h('td', null, when(r.time)),
    h('td', null, r.ip || '\u2014'),
    h('td', null, r.key_id || '\u2014'),
    h('td', {class: 'num'}, String(r.status ?? '')),
    h('td', null, refused ? badge(reasonOf(r) || 'refused', {class: 'badge b-deny'})
      : (reasonOf(r) || rec.decision || 'ok')),
    h('td', {class: 'path'}, [rec.method, rec.path].filter(Boolean).join(' ')));
  });
  const t = table('Audit records', ['Seq', 'Time', 'Address', 'Key', 'Status', 'Reason', 'Request'], rows);
  t.querySelector('table').id = 'audit-table';
  fill(results, h('p', {class: 'muted'}, `${records.length} record${records.length === 1 ? '' : 's'}` +
    (records.length >= Number(q.limit) ? ` (the first ${q.limit}; narrow the filters or raise the limit)` : '')), t);
}

async function renderRecord(ctx, seq) {
  const n = Number(seq);
  const nav = h('p', {class: 'record-nav'},
    h('a', {id: 'audit-record-back', href: '#/audit'}, '\u2190 Search'),
    Number.isInteger(n) && n > 1 ? h('a', {id: 'audit-record-prev', href: '#/audit/' + (n - 1)},
      'Previous (#' + (n - 1) + ')') : null,
    Number.isInteger(n) ? h('a', {id: 'audit-record-next', href: '#/audit/' + (n + 1)},
      'Next (#' + (n + 1) + ')') : null);
  const box = h('div', {id: 'audit-record', dataset: {seq}}, h('p', {class: 'muted'}, 'Loading\u2026'));
  ctx.root.append(ctx.title('Audit record #' + seq), nav, box);
  let res;
  try {
    res = await api('GET', '/api/v1/audit/' + encodeURIComponent(seq));
  } catch (e) {
    if (!ctx.alive()) return;
    fill(box);
    if (e.status === 404) {
      box.append(empty('audit-record-missing', `There is no audit record #${seq}.`));
      return;
    }
    throw e;
  }
  if (!ctx.alive()) return;
  const rec = res && res.record && typeof res.record === 'object' ? res.record : (res || {});
  const refused = isRefusal({...res, record: rec});
  const dl = h('dl', {id: 'audit-record-fields', class: 'fields'});
  for (const [k, v] of Object.entries(rec)) {
    dl.append(h('dt', null, k), h('dd', null, value(k, v)));
  }
  fill(box,
    refused ? h('p', {class: 'refusal-note'}, badge('refused'), ' ',
      `Refused with status ${rec.status ?? res.status}`,
      reasonOf({...res, record: rec}) ? [': ', h('code', null, reasonOf({...res, record: rec}))] : '',
      '. ', rec.ip ? h('a', {href: '#/audit?ip=' + encodeURIComponent(rec.ip)},
        'Other requests from this address') : null) : null,
    h('section', {class: 'card', 'aria-label': 'Fields'}, h('h2', null, 'Fields'), dl),
    h('section', {class: 'card', 'aria-label': 'As written'}, h('h2', null, 'As JSON'),
      h('pre', {id: 'audit-record-json', class: 'json', tabindex: '0'}, JSON.stringify(rec, null, 2))));
}

function value(k, v) {
  if (v === null || v === undefined) return h('span', {class: 'muted'}, 'null');
  if (k === 'ip') return h('a', {href: '#/audit?ip=' + encodeURIComponent(v)}, String(v));
  if (k === 'key_id') return h('a', {href: '#/audit?key=' + encodeURIComponent(v)}, String(v));
  if (k === 'reason') return h('a', {href: '#/audit?reason=' + encodeURIComponent(v)}, String(v));
  if (typeof v === 'object') return h('code', null, JSON.stringify(v));
  return h('code', null, String(v));
}
