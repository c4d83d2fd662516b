// Gatehouse admin dashboard: pieces several pages share.
// Copyright the Gatehouse authors. SPDX-License-Identifier: Apache-2.0

import {api} from './api.js';
import {h, fill} from './dom.js';

/** Where a client reaches the gateway, for the example curl; Gatehouse's default when unknown. */
export function gatewayBase(...sources) {
  for (const src of sources) {
    if (!src) continue;
    if (typeof src === 'string') {
      const m = src.match(/(https?:\/\/[^\s'"]+?)\/(?:api|v1)\//);
      if (m) return m[1];
      continue;
    }
    for (const k of ['public_url', 'gateway_url', 'base_url', 'listen_url']) {
      if (typeof src[k] === 'string' && /^https?:\/\//.test(src[k])) return src[k].replace(/\/+$/, '');
    }
  }
  return 'http://127.0.0.1:11435';
}

/** The example request for empty states; the key is elided (secrets are shown only once). */
export function exampleCurl(base) {
  return `curl -H 'Authorization: Bearer gk_...' ${base}/api/tags`;
}

/** True when an audit row is a refusal or an error rather than an answered request. */
export function isRefusal(row) {
  const rec = row.record || {};
  const decision = rec.decision || row.decision;
  if (decision) return decision !== 'allow' && decision !== 'ok';
  return Number(row.status) >= 400;
}

/** The audit row's reason code, if any. */
export function reasonOf(row) {
  return row.reason || (row.record && row.record.reason) || null;
}

/** An empty-state box: what is missing, and what to do about it. */
export function empty(id, text, ...more) {
  return h('div', {class: 'empty', id, 'data-testid': 'empty'}, h('p', null, text), more);
}

/** A badge for a status or severity word (its class picks the colour). */
export function badge(word, extra) {
  const w = String(word == null ? 'unknown' : word);
  return h('span', {class: 'badge b-' + w.toLowerCase().replace(/[^a-z0-9]+/g, '-'), ...extra}, w);
}

/** Asks inside the page (no window.confirm) whether to go on: replaces slot's content until answered. */
export function confirmInline(slot, question, yesLabel, onYes, extraField) {
  const saved = [...slot.childNodes];
  const restore = () => {
    slot.replaceChildren(...saved);
    const first = slot.querySelector('button');
    if (first) first.focus();
  };
  const yes = h('button', {type: 'button', id: 'confirm-yes', class: 'danger'}, yesLabel);
  const no = h('button', {type: 'button', id: 'confirm-no', class: 'secondary'}, 'Cancel');
  const box = h('div', {class: 'confirm', role: 'group', 'aria-label': question},
    h('span', null, question), extraField || null, yes, no);
  yes.addEventListener('click', async () => {
    yes.disabled = true;
    no.disabled = true;
    try {
      await onYes(extraField && extraField.input ? extraField.input.value.trim() : undefined);
    } finally {
      if (box.isConnected) restore();
    }
  });
  no.addEventListener('click', restore);
  box.addEventListener('keydown', (e) => {
    if (e.key === 'Escape') restore();
  });
  // Only one open confirmation at a time: their buttons share ids.
  const open = document.getElementById('confirm-no');
  if (open) open.click();
  slot.replaceChildren(box);
  (extraField && extraField.input ? extraField.input : yes).focus();
}

/** Splits "a, b c" into ["a", "b", "c"]. */
export function list(text) {
  return String(text || '').split(/[\s,]+/).map((x) => x.trim()).filter(Boolean);
}

/**
 * GETs a page's data. On a failure the problem is shown in box; the answer is null then, and also
 * when the user has left the page meanwhile (nothing more should be drawn).
 */
export async function loadInto(ctx, box, path) {
  let res;
  try {
    res = await api('GET', path);
  } catch (e) {
    if (ctx.alive()) {
      fill(box);
      ctx.fail(e, box);
    }
    return null;
  }
  return ctx.alive() ? (res || {}) : null;
}
