// Gatehouse admin dashboard: the Keys page (list, create, revoke, rotate).
// Copyright the Gatehouse authors. SPDX-License-Identifier: Apache-2.0
//
// A new secret is held only in the panel that shows it: it is never stored, put in the URL or
// logged, and it is gone once the panel is dismissed or the page is left (the server keeps only
// its hash, so it cannot be shown again).

import {api} from './api.js';
import {h, fill, when, table, field, copyBlock} from './dom.js';
import {badge, confirmInline, empty, list, gatewayBase, loadInto} from './common.js';

export async function render(ctx) {
  const panel = h('section', {id: 'key-secret-panel', class: 'card secret', hidden: true,
    'aria-labelledby': 'key-secret-title'});
  const listBox = h('div', {id: 'keys-list'}, h('p', {class: 'muted'}, 'Loading\u2026'));
  ctx.root.append(ctx.title('Keys'));
  if (ctx.can('operator')) ctx.root.append(createForm(ctx, panel, () => load(ctx, listBox, panel)));
  else ctx.root.append(h('p', {class: 'note'}, 'Your role may read the keys but not change them.'));
  ctx.root.append(panel, h('section', {class: 'card', 'aria-label': 'All keys'}, h('h2', null, 'All keys'),
    listBox));
  await load(ctx, listBox, panel);
}

function createForm(ctx, panel, reload) {
  const fName = field('key-name', 'Name', {required: true, placeholder: 'who or what uses it'});
  const fScopes = field('key-scopes', 'Scopes', {placeholder: 'inference embeddings models.read'},
    'Optional. Separated by spaces or commas; empty gives the defaults.');
  const fModels = field('key-models', 'Models', {placeholder: 'llama3* qwen2.5:7b'},
    'Optional globs; empty allows any model.');
  const fExpires = field('key-expires', 'Expires in', {placeholder: '30d'},
    'Optional, such as 12h or 30d; empty never expires.');
  const submit = h('button', {type: 'submit', id: 'key-create-submit'}, 'Create key');
  const error = h('div', {id: 'key-create-error'});
  const form = h('form', {id: 'key-create-form', class: 'card form-grid', 'aria-label': 'Create a key'},
    h('h2', null, 'Create a key'), fName, fScopes, fModels, fExpires,
    h('div', {class: 'field actions'}, submit), error);
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    fill(error);
    const name = fName.input.value.trim();
    if (!name) {
      error.append(h('p', {class: 'error', role: 'alert'}, 'Give the key a name.'));
      fName.input.focus();
      return;
    }
    const body = {name};
    if (list(fScopes.input.value).length) body.scopes = list(fScopes.input.value);
    if (list(fModels.input.value).length) body.models = list(fModels.input.value);
    if (fExpires.input.value.trim()) body.expires_in = fExpires.input.value.trim();
    submit.disabled = true;
    try {
      const res = await api('POST', '/api/v1/keys', body);
      if (!ctx.alive()) return;
      form.reset();
      showSecret(ctx, panel, res, `Key \u201c${(res.key && res.key.name) || name}\u201d created`);
      ctx.announce(`Key ${name} created. Copy its secret now: it is shown only once.`, 'ok');
      await reload();
    } catch (ex) {
      ctx.fail(ex, error);
    } finally {
      submit.disabled = false;
    }
  });
  return form;
}

/** Shows a new secret once, with a Copy button and a ready curl. */
function showSecret(ctx, panel, res, heading) {
  const secret = res.secret || '';
  const curl = res.curl
    || `curl -H 'Authorization: Bearer ${secret}' ${gatewayBase(ctx.lastCurl())}/api/tags`;
  if (res.curl) ctx.rememberCurl(res.curl.replace(secret, 'gk_...'));
  const dismiss = h('button', {type: 'button', id: 'key-secret-dismiss', class: 'secondary'},
    'I have copied it');
  dismiss.addEventListener('click', () => {
    fill(panel);
    panel.hidden = true;
    const first = document.getElementById('key-name') || document.getElementById('page-title');
    if (first) first.focus();
  });
  fill(panel,
    h('h2', {id: 'key-secret-title', tabindex: '-1'}, heading),
    h('p', {class: 'warn'}, 'This is the only time the secret is shown. Gatehouse keeps only its ' +
      'hash: copy it now and keep it somewhere safe.'),
    res.replaced ? h('p', null, 'It replaces key ', h('code', null, res.replaced), '.') : null,
    copyBlock('key-secret', 'Secret', secret, ctx.announce),
    copyBlock('key-curl', 'Try it with curl', curl, ctx.announce),
    dismiss);
  panel.dataset.keyId = res.key && res.key.id ? res.key.id : '';
  panel.hidden = false;
  document.getElementById('key-secret-title').focus();
}

async function load(ctx, box, panel) {
  const res = await loadInto(ctx, box, '/api/v1/keys');
  if (!res) return;
  const keys = (res && res.keys) || [];
  if (!keys.length) {
    fill(box, empty('keys-empty', ctx.can('operator')
      ? 'No keys yet. Create one above; clients send it as a bearer token.'
      : ['No keys yet. An operator can create one here or with ', h('code', null, 'gatehouse keys create'), '.']));
    return;
  }
  const operator = ctx.can('operator');
  const headers = ['Name', 'Id', 'Status', 'Scopes', 'Models', 'Created', 'Expires'];
  if (operator) headers.push('Actions');
  const rows = keys.map((k) => {
    const actions = h('td', {class: 'actions'});
    if (operator && k.status === 'active') {
      const revoke = h('button', {type: 'button', class: 'danger small', 'data-testid': 'key-revoke',
        'data-key-id': k.id, 'aria-label': `Revoke key ${k.name}`}, 'Revoke');
      const rotate = h('button', {type: 'button', class: 'secondary small', 'data-testid': 'key-rotate',
        'data-key-id': k.id, 'aria-label': `Rotate key ${k.name}`}, 'Rotate');
      revoke.addEventListener('click', () => confirmInline(actions, `Revoke ${k.name}? Its next request is refused.`,
        'Revoke', async () => {
          try {
            await api('POST', `/api/v1/keys/${encodeURIComponent(k.id)}/revoke`);
            ctx.announce(`Key ${k.name} revoked.`, 'ok');
            await load(ctx, box, panel);
          } catch (ex) {
            ctx.fail(ex, null);
          }
        }));
      rotate.addEventListener('click', () => {
        const grace = field('confirm-grace', 'Old key works for', {placeholder: '1h', value: ''},
          'Empty: the server\u2019s default grace.');
        confirmInline(actions, `Rotate ${k.name}?`, 'Rotate', async (g) => {
          try {
            const r = await api('POST', `/api/v1/keys/${encodeURIComponent(k.id)}/rotate`,
              g ? {grace: g} : {});
            showSecret(ctx, panel, {...r, replaced: r.replaced || k.id}, `Key \u201c${k.name}\u201d rotated`);
            ctx.announce(`Key ${k.name} rotated. Copy the new secret now: it is shown only once.`, 'ok');
            await load(ctx, box, panel);
          } catch (ex) {
            ctx.fail(ex, null);
          }
        }, grace);
      });
      actions.append(rotate, revoke);
    }
    return h('tr', {'data-testid': 'key-row', dataset: {keyId: k.id, status: k.status}},
      h('td', null, k.name || ''),
      h('td', null, h('code', null, k.id)),
      h('td', null, badge(k.status)),
      h('td', null, (k.scopes || []).join(', ') || 'default'),
      h('td', null, (k.models || []).join(', ') || 'any'),
      h('td', null, when(k.created_at)),
      h('td', null, k.status === 'revoked' ? 'revoked ' + when(k.revoked_at)
        : k.expires_at ? when(k.expires_at) : 'never'),
      operator ? actions : null);
  });
  const t = table('API keys', headers, rows);
  t.querySelector('table').id = 'keys-table';
  fill(box, t);
}
