// Gatehouse admin dashboard: the Overview page, refreshed every 2 seconds.
// Copyright the Gatehouse authors. SPDX-License-Identifier: Apache-2.0
//
// The page is built once and then updated in place, so a poll never moves the keyboard focus
// or scrolls. Only the upstream's state sits in a live region: announcing every changing number
// each 2 s would drown a screen reader.

import {api, withQuery} from './api.js';
import {h, fill, num, when, table, copyBlock} from './dom.js';
import {mountChart, lineChart} from './charts.js';
import {gatewayBase, exampleCurl, isRefusal, reasonOf, empty} from './common.js';

const POLL_MS = 2000;

function stat(id, label) {
  return h('div', {class: 'stat'}, h('div', {class: 'stat-label', id: id + '-label'}, label),
    h('div', {class: 'stat-value', id}, '\u2014'));
}

function card(title, ...body) {
  return h('section', {class: 'card', 'aria-label': title}, h('h2', null, title), body);
}

export function render(ctx) {
  const updated = h('p', {id: 'overview-updated', class: 'muted'}, 'Loading\u2026');
  const error = h('div', {id: 'overview-error'});
  const upstream = h('div', {id: 'overview-upstream', class: 'stat-value', 'aria-live': 'polite'},
    '\u2014');
  const emptySlot = h('div');
  const chart = h('div', {id: 'overview-chart', class: 'chart-box'});
  const tokensChart = h('div', {id: 'overview-tokens-chart', class: 'chart-box'});
  const refusals = h('ul', {id: 'overview-refusals', class: 'plain'});
  const recent = h('ul', {id: 'overview-recent-refusals', class: 'plain'});
  const topKeys = h('div', {id: 'overview-top-keys'});
  const topAddresses = h('div', {id: 'overview-top-addresses'});
  ctx.root.append(
    ctx.title('Overview', updated),
    error,
    h('div', {class: 'stats'},
      stat('overview-rps', 'Requests / s'),
      stat('overview-tps', 'Tokens / s'),
      stat('overview-streams', 'Active streams'),
      stat('overview-requests', 'Requests'),
      stat('overview-refused', 'Refused'),
      h('div', {class: 'stat'}, h('div', {class: 'stat-label'}, 'Upstream'), upstream)),
    emptySlot,
    h('div', {class: 'grid2'},
      card('Requests and refusals', chart),
      card('Tokens', tokensChart)),
    h('div', {class: 'grid2'},
      card('Refusals by reason', refusals),
      card('Recent refusals', recent)),
    h('div', {class: 'grid2'},
      card('Top keys (15 min)', topKeys),
      card('Top addresses (15 min)', topAddresses)));

  let drawChart = null;
  let drawTokens = null;
  let lastRefused = -1;
  let ticks = 0;

  ctx.poll(async () => {
    let o;
    try {
      o = await api('GET', '/api/v1/overview');
    } catch (e) {
      if (!ctx.alive()) return;
      fill(error);
      ctx.fail(e, error);
      return;
    }
    if (!ctx.alive()) return;
    fill(error);
    const windowS = o.window_seconds || 60;
    const totals = o.totals || {};
    updated.textContent = `Last ${windowS} s \u00b7 updated ${new Date().toLocaleTimeString()}`;
    fill(document.getElementById('overview-rps'), num(o.requests_per_second, 1));
    fill(document.getElementById('overview-tps'), num(o.tokens_per_second, 1));
    fill(document.getElementById('overview-streams'), num(o.active_streams));
    fill(document.getElementById('overview-requests'), num(totals.requests));
    fill(document.getElementById('overview-refused'), num(totals.refused));
    showUpstream(upstream, o.upstream || {});

    const series = Array.isArray(o.series) ? o.series : [];
    const quiet = !(Number(totals.requests) > 0) && !series.some((p) => Number(p.requests) > 0)
      && !(Number(o.active_streams) > 0);
    if (quiet && !document.getElementById('overview-empty')) {
      const base = gatewayBase(o, ctx.lastCurl());
      fill(emptySlot, empty('overview-empty', 'No traffic yet: try this curl (with a key from the Keys page).',
        copyBlock('empty-curl', 'Example request', exampleCurl(base), ctx.announce)));
    } else if (!quiet) {
      fill(emptySlot);
    }

    const labels = series.map((p) => shortTime(p.t));
    const reqDraw = (w) => lineChart(w, {title: 'Requests and refusals per interval', labels,
      series: [{name: 'requests', values: series.map((p) => p.requests || 0)},
        {name: 'refused', values: series.map((p) => p.refused || 0)}]});
    const tokDraw = (w) => lineChart(w, {title: 'Tokens per interval', labels,
      series: [{name: 'tokens', values: series.map((p) => p.tokens || 0)}]});
    if (drawChart) drawChart(reqDraw); else drawChart = mountChart(chart, reqDraw);
    if (drawTokens) drawTokens(tokDraw); else drawTokens = mountChart(tokensChart, tokDraw);

    showRefusals(refusals, o.refusals || {});
    showTop(topKeys, 'Top keys', (o.top_keys || []), 'key_id', 'top-key', 'keyId', 'key');
    showTop(topAddresses, 'Top addresses', (o.top_addresses || []), 'ip', 'top-address', 'ip', 'ip');

    // The recent refusals come from the audit store; ask again only when the count moved (or
    // every 30 s), not on every tick.
    const refused = Number(totals.refused) || 0;
    if (refused !== lastRefused || ticks % 15 === 0) {
      lastRefused = refused;
      await showRecent(ctx, recent);
    }
    ticks++;
  }, POLL_MS);
}

function shortTime(t) {
  const m = String(t || '').match(/T(\d\d:\d\d:\d\d)/);
  return m ? m[1] : String(t || '');
}

function showUpstream(el, up) {
  const state = up.up === true ? 'true' : up.up === false ? 'false' : 'unknown';
  el.dataset.up = state;
  el.className = 'stat-value up-' + state;
  fill(el, state === 'true' ? 'Up' : state === 'false' ? 'Down' : 'Unknown',
    h('small', {class: 'muted block'}, [state === 'unknown' ? 'not checked yet' : null, up.url]
      .filter(Boolean).join(' \u00b7 ')));
}

function showRefusals(el, byReason) {
  const entries = Object.entries(byReason).filter(([, n]) => Number(n) > 0)
    .sort((a, b) => b[1] - a[1]);
  if (!entries.length) {
    fill(el, h('li', {class: 'muted'}, 'No refusals in this window.'));
    return;
  }
  fill(el, entries.map(([code, n]) => h('li', {'data-testid': 'refusal-reason', 'data-reason': code},
    h('a', {href: '#/audit?reason=' + encodeURIComponent(code)}, h('code', null, code)),
    h('span', {class: 'count'}, num(n)))));
}

function showTop(el, caption, rows, field, testid, dataKey, filter) {
  if (!rows.length) {
    fill(el, h('p', {class: 'muted'}, 'None in the last 15 minutes.'));
    return;
  }
  fill(el, table(caption, [filter === 'ip' ? 'Address' : 'Key', 'Requests'], rows.map((r) =>
    h('tr', {'data-testid': testid, dataset: {[dataKey]: r[field]}},
      h('td', null, r[field] == null ? h('span', {class: 'muted'}, '(no key)')
        : h('a', {href: '#/audit?' + filter + '=' + encodeURIComponent(r[field])}, String(r[field]))),
      h('td', {class: 'num'}, num(r.requests))))));
}

async function showRecent(ctx, el) {
  let rows;
  try {
    const res = await api('GET', withQuery('/api/v1/audit', {limit: 100}));
    rows = (res && res.records) || [];
  } catch (e) {
    if (ctx.alive()) {
      fill(el);
      ctx.fail(e, el);
    }
    return;
  }
  if (!ctx.alive()) return;
  const refusals = rows.filter(isRefusal).slice(0, 8);
  if (!refusals.length) {
    fill(el, h('li', {class: 'muted'}, 'No refusals among the last 100 requests.'));
    return;
  }
  fill(el, refusals.map((r) => h('li', null,
    h('a', {href: '#/audit/' + encodeURIComponent(r.seq), 'data-testid': 'refusal-link',
      'data-seq': r.seq}, '#' + r.seq),
    ' ', h('code', null, reasonOf(r) || String(r.status)), ' ',
    h('span', {class: 'muted when'}, (r.ip || '') + ' \u00b7 ' + when(r.time)))));
}
