// Gatehouse admin dashboard: the Bans page (list, unban, add by hand, export).
// Copyright the Gatehouse authors. SPDX-License-Identifier: Apache-2.0

import {api} from './api.js';
import {h, fill, when, num, table, field} from './dom.js';
import {badge, confirmInline, empty, loadInto} from './common.js';

export async function render(ctx) {
  const listBox = h('div', {id: 'bans-list'}, h('p', {class: 'muted'}, 'Loading\u2026'));
  const exports = h('p', {class: 'exports'}, 'Export: ',
    h('a', {id: 'bans-export-csv', href: '/api/v1/bans/export?format=csv', download: 'bans.csv'}, 'CSV'),
    ' \u00b7 ',
    h('a', {id: 'bans-export-json', href: '/api/v1/bans/export?format=json', download: 'bans.json'}, 'JSON'));
  ctx.root.append(ctx.title('Bans', exports));
  if (ctx.can('operator')) ctx.root.append(addForm(ctx, () => load(ctx, listBox)));
  else ctx.root.append(h('p', {class: 'note'}, 'Your role may read the bans but not change them.'));
  ctx.root.append(h('section', {class: 'card', 'aria-label': 'Banned addresses'},
    h('h2', null, 'Addresses'), listBox));
  await load(ctx, listBox);
}

function addForm(ctx, reload) {
  const fIp = field('ban-ip', 'Address', {required: true, placeholder: '203.0.113.9', inputmode: 'text'},
    'One IPv4 or IPv6 address (ranges belong in network.deny).');
  const fDuration = field('ban-duration', 'For', {placeholder: '24h'},
    'Optional, such as 1h or 7d; empty uses the server\u2019s default.');
  const fReason = field('ban-reason', 'Reason', {placeholder: 'manual'}, 'Optional note.');
  const submit = h('button', {type: 'submit', id: 'ban-submit', class: 'danger'}, 'Ban address');
  const error = h('div', {id: 'ban-error'});
  const form = h('form', {id: 'ban-form', class: 'card form-grid', 'aria-label': 'Ban an address'},
    h('h2', null, 'Ban an address'), fIp, fDuration, fReason,
    h('div', {class: 'field actions'}, submit), error);
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    fill(error);
    const ip = fIp.input.value.trim();
    if (!ip) {
      error.append(h('p', {class: 'error', role: 'alert'}, 'Enter the address to ban.'));
      fIp.input.focus();
      return;
    }
    const body = {ip};
    if (fDuration.input.value.trim()) body.duration = fDuration.input.value.trim();
    if (fReason.input.value.trim()) body.reason = fReason.input.value.trim();
    submit.disabled = true;
    try {
      await api('POST', '/api/v1/bans', body);
      if (!ctx.alive()) return;
      form.reset();
      ctx.announce(`${ip} is banned.`, 'ok');
      await reload();
    } catch (ex) {
      ctx.fail(ex, error);
    } finally {
      submit.disabled = false;
    }
  });
  return form;
}

async function load(ctx, box) {
  const res = await loadInto(ctx, box, '/api/v1/bans');
  if (!res) return;
  const bans = (res && res.bans) || [];
  if (!bans.length) {
    fill(box, empty('bans-empty', 'No address is banned. Gatehouse bans an address by itself when ' +
      'it keeps failing authentication or probing (see docs/abuse.md); you can also ban one above.'));
    return;
  }
  const operator = ctx.can('operator');
  const headers = ['Address', 'Status', 'Reasons', 'Requests', 'First seen', 'Last seen', 'Banned',
    'Until'];
  if (operator) headers.push('Actions');
  const rows = bans.map((b) => {
    const actions = h('td', {class: 'actions'});
    if (operator && b.status !== 'ended') {
      const remove = h('button', {type: 'button', class: 'secondary small', 'data-testid': 'ban-remove',
        'data-ip': b.ip, 'aria-label': `Unban ${b.ip}`}, 'Unban');
      remove.addEventListener('click', () => confirmInline(actions, `Unban ${b.ip}?`, 'Unban', async () => {
        try {
          await api('DELETE', '/api/v1/bans/' + encodeURIComponent(b.ip));
          ctx.announce(`${b.ip} is no longer banned.`, 'ok');
          await load(ctx, box);
        } catch (ex) {
          ctx.fail(ex, null);
        }
      }));
      actions.append(remove);
    }
    const until = b.expires_at !== undefined ? b.expires_at : b.banned_until;
    return h('tr', {'data-testid': 'ban-row', dataset: {ip: b.ip, status: b.status}},
      h('td', null, h('a', {href: '#/audit?ip=' + encodeURIComponent(b.ip)}, h('code', null, b.ip))),
      h('td', null, badge(b.status)),
      h('td', null, (b.reasons || []).join(', ') || '\u2014'),
      h('td', {class: 'num'}, num(b.request_count)),
      h('td', null, when(b.first_seen)),
      h('td', null, when(b.last_seen)),
      h('td', null, when(b.banned_at)),
      h('td', null, until ? when(until) : 'until unbanned'),
      operator ? actions : null);
  });
  const t = table('Banned addresses', headers, rows);
  t.querySelector('table').id = 'bans-table';
  fill(box, t);
}
