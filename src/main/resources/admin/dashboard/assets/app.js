// Gatehouse admin dashboard: start-up, login, navigation and the pages' shared context.
// Copyright the Gatehouse authors. SPDX-License-Identifier: Apache-2.0
//
// Vanilla ES2020 modules, no framework and no build step; nothing is fetched from another origin.
// Pages are chosen by the URL's hash: #/overview, #/usage, #/keys, #/bans, #/alerts,
// #/audit (filters as a query: #/audit?ip=203.0.113.9&reason=auth.key_invalid), #/audit/SEQ
// (one record), #/doctor and #/account (the second factor). The login screen shows whenever the
// API answers 401; it asks for a code when the credential has a second factor.
//
// Stable hooks for browser tests (ids are unique; data-testid marks repeated elements, whose
// data-* attributes name the row):
//   Shell:    #login, #login-form, #login-token, #login-code-field, #login-code, #login-submit,
//             #login-error, #nav-toggle,
//             #nav, #nav-overview #nav-usage #nav-keys #nav-bans #nav-alerts #nav-audit
//             #nav-doctor #nav-account, #whoami (data-role), #logout, #status (aria-live messages),
//             #page (the current page; data-page="overview" ...), #page-title, #page-error.
//   SSO:      #login-sso (shown when admin.oidc is set), #login-sso-link.
//   Overview: #overview-rps #overview-tps #overview-streams #overview-requests #overview-refused
//             #overview-upstream (data-up="true|false|unknown"), #overview-chart,
//             #overview-tokens-chart, #overview-refusals (li[data-testid=refusal-reason]
//             [data-reason]), #overview-recent-refusals (a[data-testid=refusal-link][data-seq]),
//             #overview-top-keys (tr[data-testid=top-key][data-key-id]), #overview-top-addresses
//             (tr[data-testid=top-address][data-ip]), #overview-empty, #empty-curl,
//             #overview-updated.
//   Usage:    #usage-form #usage-since #usage-key #usage-metric #usage-submit, #usage-by-key-chart,
//             #usage-by-model-chart, #usage-table (tr[data-testid=usage-row]), #usage-empty.
//   Keys:     #key-create-form #key-name #key-scopes #key-models #key-expires #key-create-submit,
//             #key-secret-panel, #key-secret (the gk_ secret, shown once), #key-secret-copy,
//             #key-curl, #key-curl-copy, #key-secret-dismiss, #keys-table
//             (tr[data-testid=key-row][data-key-id][data-status]; in it
//             button[data-testid=key-revoke] and button[data-testid=key-rotate]), #keys-empty.
//   Confirm:  an inline confirmation replaces a row's actions: #confirm-grace (rotate only),
//             #confirm-yes, #confirm-no.
//   Bans:     #ban-form #ban-ip #ban-duration #ban-reason #ban-submit, #bans-table
//             (tr[data-testid=ban-row][data-ip][data-status]; button[data-testid=ban-remove]),
//             #bans-empty, #bans-export-csv, #bans-export-json.
//   Alerts:   #alerts-refresh, #alerts-table (tr[data-testid=alert-row]), #alerts-empty.
//   Audit:    #audit-form #audit-key #audit-ip #audit-status #audit-reason #audit-since
//             #audit-until #audit-limit #audit-submit #audit-reset, #audit-verify,
//             #audit-verify-result, #audit-table (tr[data-testid=audit-row][data-seq]
//             [data-refused]; a[data-testid=audit-link] to #/audit/SEQ), #audit-empty.
//   Record:   #audit-record (data-seq), #audit-record-fields, #audit-record-json,
//             #audit-record-prev, #audit-record-next, #audit-record-back.
//   Doctor:   #doctor-run, #doctor-ran-at, #doctor-findings (li[data-testid=finding]
//             [data-id][data-severity], each with .finding-fix), #doctor-empty.
//   Account:  #account-totp (data-enrolled), #account-required, #totp-state, #totp-start, #totp-qr,
//             #totp-secret, #totp-confirm-form #totp-confirm-code #totp-confirm-submit,
//             #totp-recovery (li[data-testid=recovery-code]), #totp-recovery-codes,
//             #totp-recovery-dismiss, #totp-recovery-left, #totp-remove-form #totp-remove-code
//             #totp-remove.
// Buttons for actions a role may not take are left out (viewer: read only); the server decides.

import {api, ApiError} from './api.js';
import {h, fill} from './dom.js';
import * as overview from './page-overview.js';
import * as usage from './page-usage.js';
import * as keys from './page-keys.js';
import * as bans from './page-bans.js';
import * as audit from './page-audit.js';
import * as misc from './page-misc.js';
import * as account from './page-account.js';

const PAGES = {
  overview: {title: 'Overview', render: overview.render},
  usage: {title: 'Usage', render: usage.render},
  keys: {title: 'Keys', render: keys.render},
  bans: {title: 'Bans', render: bans.render},
  alerts: {title: 'Alerts', render: misc.renderAlerts},
  audit: {title: 'Audit', render: audit.render},
  doctor: {title: 'Doctor', render: misc.renderDoctor},
  account: {title: 'Account', render: account.render},
};
const RANK = {viewer: 1, operator: 2, admin: 3};

const $ = (id) => document.getElementById(id);
const state = {me: null, generation: 0, timer: null, lastCurl: null};

/** Says something to everyone: shown in #status and read by screen readers (aria-live). */
function announce(message, kind = 'info') {
  const el = $('status');
  el.className = 'status ' + kind;
  el.textContent = message;
  el.hidden = !message;
}

function stopPolling() {
  if (state.timer !== null) clearTimeout(state.timer);
  state.timer = null;
}

/** Parses "#/audit/12?ip=x" into {name: 'audit', rest: ['12'], query: URLSearchParams}. */
function parseHash() {
  const raw = location.hash.replace(/^#\/?/, '');
  const [path, qs] = raw.split('?', 2);
  const parts = path.split('/').filter(Boolean).map(decodeURIComponent);
  return {name: parts[0] || 'overview', rest: parts.slice(1), query: new URLSearchParams(qs || '')};
}

function showLogin(message) {
  stopPolling();
  state.me = null;
  $('nav').hidden = true;
  $('nav-toggle').hidden = true;
  $('session').hidden = true;
  $('page').hidden = true;
  fill($('page'));
  $('login').hidden = false;
  const err = $('login-error');
  err.textContent = message || '';
  err.hidden = !message;
  $('login-token').value = '';
  $('login-code').value = '';
  $('login-code-field').hidden = true;
  $('login-token').focus();
}

function showShell() {
  $('login').hidden = true;
  $('nav').hidden = false;
  $('nav-toggle').hidden = false;
  $('session').hidden = false;
  $('page').hidden = false;
  const role = String(state.me.role || '').toLowerCase();
  const who = $('whoami');
  who.dataset.role = role;
  fill(who, 'Signed in as ', h('strong', null, state.me.name || state.me.id), ' ',
    h('span', {class: 'badge role-' + role}, role));
}

/** A failure while a page loads: back to login on 401, else the problem's detail on the page. */
function handleError(err, target) {
  if (err instanceof ApiError && err.status === 401) {
    showLogin('Your session ended: sign in again.');
    return;
  }
  // profile prod: an admin session without a second factor may only set one up.
  if (err instanceof ApiError && err.code === 'admin.second_factor_enrolment_required'
    && parseHash().name !== 'account') {
    location.hash = '#/account';
    return;
  }
  const text = err instanceof ApiError ? err.describe() : String(err && err.message || err);
  if (target) {
    const box = h('p', {class: 'error', role: 'alert', id: target === $('page') ? 'page-error' : null},
      text);
    target.append(box);
  } else {
    announce(text, 'error');
  }
}

function route() {
  if (!state.me) return;
  stopPolling();
  // A message belongs to the page it was said on; a later announce() on the new page replaces it.
  announce('');
  const gen = ++state.generation;
  const {name, rest, query} = parseHash();
  const page = PAGES[name];
  const root = $('page');
  fill(root);
  root.dataset.page = page ? name : 'unknown';
  for (const key of Object.keys(PAGES)) {
    const link = $('nav-' + key);
    if (key === name) link.setAttribute('aria-current', 'page');
    else link.removeAttribute('aria-current');
  }
  closeNav();
  if (!page) {
    root.append(title('Not found'), h('p', null, 'No page here. ', h('a', {href: '#/overview'},
      'Go to the overview.')));
    focusTitle();
    return;
  }
  document.title = page.title + ' \u2014 Gatehouse admin';
  const ctx = {
    root, rest, query, me: state.me, announce,
    can: (role) => (RANK[String(state.me.role).toLowerCase()] || 0) >= RANK[role],
    alive: () => gen === state.generation && state.me !== null,
    fail: (err, target) => handleError(err, target === undefined ? root : target),
    title,
    /** Runs fn every ms milliseconds while this page is shown (and the tab is visible). */
    poll: (fn, ms) => {
      const tick = async () => {
        if (gen !== state.generation) return;
        if (!document.hidden) {
          try {
            await fn();
          } catch (e) {
            // fn shows its own errors; polling goes on so the page recovers by itself
          }
        }
        if (gen === state.generation && state.me) state.timer = setTimeout(tick, ms);
      };
      tick();
    },
    rememberCurl: (curl) => {
      state.lastCurl = curl;
    },
    lastCurl: () => state.lastCurl,
    /** Goes to a hash; the same hash again reloads the page (a repeated search). */
    go: (hash) => {
      if (location.hash === hash) route();
      else location.hash = hash;
    },
    reload: () => route(),
  };
  try {
    Promise.resolve(page.render(ctx)).catch((e) => ctx.alive() && ctx.fail(e));
  } catch (e) {
    ctx.fail(e);
  }
  focusTitle();
}

/** The page's heading, focused after each navigation so keyboard and reader users land there. */
function title(text, ...extra) {
  return h('div', {class: 'page-head'}, h('h1', {id: 'page-title', tabindex: '-1'}, text), extra);
}

function focusTitle() {
  const t = $('page-title');
  if (t && !$('login').contains(document.activeElement)) t.focus({preventScroll: false});
}

function closeNav() {
  $('nav-toggle').setAttribute('aria-expanded', 'false');
  $('nav').classList.remove('open');
}

async function start() {
  // Single sign-on: the button shows only when the server has a provider (admin.oidc.issuer).
  fetch('/api/v1/oidc').then((r) => r.ok ? r.json() : null)
    .then((j) => { $('login-sso').hidden = !(j && j.enabled); }, () => {});
  $('login-form').addEventListener('submit', async (e) => {
    e.preventDefault();
    const token = $('login-token').value.trim();
    const err = $('login-error');
    if (!token) {
      err.textContent = 'Paste an admin token first.';
      err.hidden = false;
      return;
    }
    const body = {token};
    const code = $('login-code').value.trim();
    if (!$('login-code-field').hidden && code) Object.assign(body, account.secondFactor(code));
    $('login-submit').disabled = true;
    try {
      state.me = await api('POST', '/api/v1/session', body);
      $('login-token').value = '';
      $('login-code').value = '';
      $('login-code-field').hidden = true;
      if (state.me.enrolment_required) history.replaceState(null, '', '#/account');
      enter();
    } catch (ex) {
      const second = ex instanceof ApiError && (ex.code === 'admin.second_factor_required'
        || ex.code === 'admin.second_factor_invalid');
      if (second) {
        // The token was right: keep it, and ask for (another) code.
        $('login-code-field').hidden = false;
        err.textContent = ex.code === 'admin.second_factor_required'
          ? 'Enter the code from your authenticator app.'
          : 'That code was not accepted (wrong, used already, or expired): enter the current one.';
        err.hidden = false;
        $('login-code').value = '';
        $('login-code').focus();
        return;
      }
      err.textContent = ex instanceof ApiError
        ? (ex.status === 401 ? 'That token was not accepted. ' : '') + ex.describe()
        : String(ex);
      err.hidden = false;
      $('login-token').select();
    } finally {
      $('login-submit').disabled = false;
    }
  });
  $('logout').addEventListener('click', async () => {
    try {
      await api('DELETE', '/api/v1/session');
    } catch (ex) {
      // The cookie may already be gone; the login screen is right either way.
    }
    announce('Signed out.');
    // The next person to sign in starts at the overview, not on the page this one left.
    history.replaceState(null, '', '#/overview');
    showLogin();
  });
  $('nav-toggle').addEventListener('click', () => {
    const open = $('nav-toggle').getAttribute('aria-expanded') !== 'true';
    $('nav-toggle').setAttribute('aria-expanded', String(open));
    $('nav').classList.toggle('open', open);
  });
  document.addEventListener('keydown', (e) => {
    if (e.key === 'Escape' && $('nav').classList.contains('open')) {
      closeNav();
      $('nav-toggle').focus();
    }
  });
  window.addEventListener('hashchange', route);
  try {
    state.me = await api('GET', '/api/v1/me');
    enter();
  } catch (ex) {
    if (ex instanceof ApiError && ex.status === 401) showLogin();
    else showLogin('The admin API did not answer: ' + (ex.describe ? ex.describe() : ex));
  }
}

function enter() {
  announce('');
  showShell();
  if (!location.hash || location.hash === '#' || location.hash === '#/') {
    history.replaceState(null, '', '#/overview');
  }
  route();
}

start();
