// Gatehouse admin dashboard: the Account page (the signed-in credential's second factor, TOTP).
// Copyright the Gatehouse authors. SPDX-License-Identifier: Apache-2.0
//
// Enrolment shows the secret (as a QR code and as text) and, once confirmed, the recovery codes,
// each only once: they are held only in this page's DOM, never stored, put in the URL or logged,
// and gone when the page is left (the server keeps the secret encrypted and the codes hashed, and
// never shows them again). The QR code is the server's SVG shown as an <img> of a data: URL (the
// CSP allows img-src data:), so no markup from the answer is ever parsed into the page.

import {api} from './api.js';
import {h, fill, when, field, copyBlock} from './dom.js';
import {loadInto} from './common.js';

export async function render(ctx) {
  const box = h('div', {id: 'account-totp'}, h('p', {class: 'muted'}, 'Loading\u2026'));
  ctx.root.append(ctx.title('Account'),
    h('p', null, 'Signed in as ', h('strong', null, ctx.me.name || ctx.me.id), ' (',
      String(ctx.me.role || ''), ', credential ', h('code', null, ctx.me.id), ').'),
    h('section', {class: 'card', 'aria-labelledby': 'account-totp-title'},
      h('h2', {id: 'account-totp-title'}, 'Second factor (authenticator app)'), box));
  await load(ctx, box);
}

async function load(ctx, box) {
  const st = await loadInto(ctx, box, '/api/v1/me/totp');
  if (!st) return;
  box.dataset.enrolled = String(Boolean(st.enrolled));
  const held = st.required && st.session_second_factor === false;
  const notes = [];
  if (held && !st.enrolled) {
    notes.push(h('p', {class: 'warn', id: 'account-required'}, 'This gateway runs with profile ' +
      'prod: an admin must sign in with a second factor. Set one up here; until then this is the ' +
      'only page open to this session.'));
  } else if (held) {
    notes.push(h('p', {class: 'warn', id: 'account-required'}, 'This session was opened without ' +
      'a code. Log out and sign in again with one to reach the other pages.'));
  }
  if (st.enrolled) {
    fill(box, notes,
      h('p', {id: 'totp-state'}, 'On since ', when(st.confirmed_at), '. Signing in to the ' +
        'dashboard asks for a code from your authenticator app. ',
      h('span', {id: 'totp-recovery-left'}, String(st.recovery_codes_left)),
      ' recovery code' + (st.recovery_codes_left === 1 ? '' : 's') + ' left.'),
      removeForm(ctx, box));
  } else {
    const start = h('button', {type: 'button', id: 'totp-start'}, 'Set up an authenticator app');
    const out = h('div', {id: 'totp-enrol'});
    start.addEventListener('click', () => begin(ctx, box, out, start));
    fill(box, notes,
      h('p', {id: 'totp-state'}, 'Off. With it on, signing in to the dashboard also asks for a ' +
        'six-digit code from an authenticator app (any app for TOTP, RFC 6238). The admin token ' +
        'still works alone for the API and the CLI.'),
      start, out);
  }
}

async function begin(ctx, box, out, start) {
  start.disabled = true;
  let res;
  try {
    res = await api('POST', '/api/v1/me/totp');
  } catch (e) {
    start.disabled = false;
    if (ctx.alive()) ctx.fail(e, out);
    return;
  }
  if (!ctx.alive()) return;
  start.hidden = true;
  const img = h('img', {id: 'totp-qr', class: 'qr', width: '240', height: '240',
    alt: 'QR code for your authenticator app; the same secret is written below',
    src: 'data:image/svg+xml;base64,' + btoa(res.qr_svg)});
  const fCode = field('totp-confirm-code', 'Code from the app', {required: true,
    inputmode: 'numeric', placeholder: '123456'}, 'Six digits; a new one every 30 seconds.');
  const submit = h('button', {type: 'submit', id: 'totp-confirm-submit'}, 'Turn on');
  const error = h('div', {id: 'totp-confirm-error'});
  const form = h('form', {id: 'totp-confirm-form', class: 'form-grid',
    'aria-label': 'Confirm with a code'}, fCode, h('div', {class: 'field actions'}, submit), error);
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    fill(error);
    const code = fCode.input.value.replace(/\s+/g, '');
    if (!code) {
      fCode.input.focus();
      return;
    }
    submit.disabled = true;
    try {
      const done = await api('POST', '/api/v1/me/totp/confirm', {code});
      if (!ctx.alive()) return;
      showRecovery(ctx, box, done.recovery_codes || []);
    } catch (ex) {
      fCode.input.value = '';
      fCode.input.focus();
      ctx.fail(ex, error);
    } finally {
      submit.disabled = false;
    }
  });
  fill(out,
    h('p', {class: 'warn'}, 'Shown this once: scan the code with the app now (or type the ' +
      'secret), then enter the code the app shows.'),
    h('div', {class: 'qr-box'}, img),
    copyBlock('totp-secret', 'Secret (for typing in)', res.secret, ctx.announce),
    h('p', {class: 'muted'}, `${res.issuer} \u00b7 ${res.account} \u00b7 ${res.algorithm}, ` +
      `${res.digits} digits, every ${res.period} s`),
    form);
  fCode.input.focus();
}

function showRecovery(ctx, box, codes) {
  const list = h('ul', {id: 'totp-recovery', class: 'plain'},
    codes.map((c) => h('li', {'data-testid': 'recovery-code'}, h('code', null, c))));
  const dismiss = h('button', {type: 'button', id: 'totp-recovery-dismiss', class: 'secondary'},
    'I have saved them');
  dismiss.addEventListener('click', () => {
    fill(box, h('p', {class: 'muted'}, 'Loading\u2026'));
    load(ctx, box);
  });
  fill(box,
    h('h3', {id: 'totp-recovery-title', tabindex: '-1'}, 'Second factor on: your recovery codes'),
    h('p', {class: 'warn'}, 'This is the only time they are shown. Each one signs you in once ' +
      'in place of a code, if the phone is lost. Gatehouse keeps only their hashes: save them ' +
      'somewhere safe now.'),
    list,
    copyBlock('totp-recovery-codes', 'All recovery codes', codes.join('\n'), ctx.announce),
    dismiss);
  ctx.announce('Second factor on. Save the recovery codes now: they are shown only once.', 'ok');
  document.getElementById('totp-recovery-title').focus();
}

function removeForm(ctx, box) {
  const fCode = field('totp-remove-code', 'Code from the app, or a recovery code', {required: true},
    'Removing the second factor needs proof you still have it.');
  const submit = h('button', {type: 'submit', id: 'totp-remove', class: 'danger'},
    'Turn off');
  const error = h('div', {id: 'totp-remove-error'});
  const form = h('form', {id: 'totp-remove-form', class: 'form-grid',
    'aria-label': 'Turn the second factor off'}, fCode, h('div', {class: 'field actions'}, submit),
  error);
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    fill(error);
    const value = fCode.input.value.trim();
    if (!value) {
      fCode.input.focus();
      return;
    }
    submit.disabled = true;
    try {
      await api('DELETE', '/api/v1/me/totp', secondFactor(value));
      if (!ctx.alive()) return;
      ctx.announce('Second factor off.', 'ok');
      fill(box, h('p', {class: 'muted'}, 'Loading\u2026'));
      await load(ctx, box);
    } catch (ex) {
      fCode.input.value = '';
      ctx.fail(ex, error);
    } finally {
      submit.disabled = false;
    }
  });
  return form;
}

/** {code} for six digits, else {recovery_code}: one field takes either. */
export function secondFactor(value) {
  const v = String(value).replace(/\s+/g, '');
  return /^\d{6}$/.test(v) ? {code: v} : {recovery_code: v};
}
