// Gatehouse admin dashboard: the Alerts and Doctor pages.
// Copyright the Gatehouse authors. SPDX-License-Identifier: Apache-2.0

import {api} from './api.js';
import {h, fill, when, table} from './dom.js';
import {badge, empty, loadInto} from './common.js';

const SEVERITY_ORDER = ['critical', 'high', 'warning', 'medium', 'low', 'info'];

function severityRank(s) {
  const i = SEVERITY_ORDER.indexOf(String(s || '').toLowerCase());
  return i < 0 ? SEVERITY_ORDER.length : i;
}

export async function renderAlerts(ctx) {
  const refresh = h('button', {type: 'button', id: 'alerts-refresh', class: 'secondary'}, 'Refresh');
  const box = h('div', {id: 'alerts-list'}, h('p', {class: 'muted'}, 'Loading\u2026'));
  ctx.root.append(ctx.title('Alerts', refresh),
    h('p', {class: 'muted'}, 'The most recent alerts raised since the gateway started (up to 200), newest first. ' +
      'Rules are set in alerts.rules (docs/alerts.md).'), box);
  refresh.addEventListener('click', () => loadAlerts(ctx, box, true));
  await loadAlerts(ctx, box, false);
}

async function loadAlerts(ctx, box, announce) {
  const res = await loadInto(ctx, box, '/api/v1/alerts');
  if (!res) return;
  const alerts = (res && res.alerts) || [];
  if (announce) ctx.announce(`${alerts.length} alert${alerts.length === 1 ? '' : 's'}.`);
  if (!alerts.length) {
    fill(box, empty('alerts-empty', 'No alerts since the gateway started. That is the good case; ' +
      'the shipped rules fire on repeated authentication failures, bans, an upstream going down ' +
      'and similar events.'));
    return;
  }
  const rows = alerts.map((a) => h('tr', {'data-testid': 'alert-row', dataset: {rule: a.rule || a.alert,
    severity: a.severity}},
  h('td', null, when(a.at || a.time)),
  h('td', null, badge(a.severity || 'warning')),
  h('td', null, h('code', null, a.rule || a.alert || '')),
  h('td', null, subject(a)),
  h('td', null, a.summary || '')));
  const t = table('Recent alerts', ['Time', 'Severity', 'Rule', 'Subject', 'Summary'], rows);
  t.querySelector('table').id = 'alerts-table';
  fill(box, t);
}

function subject(a) {
  const s = a.subject ?? (a.group && a.group.value);
  if (s === undefined || s === null || s === '') return '\u2014';
  const by = a.group && a.group.by;
  if (by === 'ip') return h('a', {href: '#/audit?ip=' + encodeURIComponent(s)}, String(s));
  if (by === 'key' || by === 'key_id') return h('a', {href: '#/audit?key=' + encodeURIComponent(s)}, String(s));
  return typeof s === 'object' ? JSON.stringify(s) : String(s);
}

export async function renderDoctor(ctx) {
  const head = [];
  const box = h('div', {id: 'doctor-result'}, h('p', {class: 'muted'}, 'Loading\u2026'));
  if (ctx.can('operator')) {
    const run = h('button', {type: 'button', id: 'doctor-run'}, 'Run now');
    run.addEventListener('click', async () => {
      run.disabled = true;
      run.textContent = 'Running\u2026';
      box.setAttribute('aria-busy', 'true');
      try {
        const res = await api('POST', '/api/v1/doctor');
        if (!ctx.alive()) return;
        showDoctor(box, res);
        const n = ((res && res.findings) || []).length;
        ctx.announce(`Doctor ran: ${n} finding${n === 1 ? '' : 's'}.`, 'ok');
      } catch (ex) {
        ctx.fail(ex, null);
      } finally {
        box.removeAttribute('aria-busy');
        run.disabled = false;
        run.textContent = 'Run now';
      }
    });
    head.push(run);
  }
  ctx.root.append(ctx.title('Doctor', head),
    h('p', {class: 'muted'}, 'What ', h('code', null, 'gatehouse doctor'), ' finds in this setup, worst first, each with its fix.'),
    box);
  const res = await api('GET', '/api/v1/doctor');
  if (!ctx.alive()) return;
  showDoctor(box, res);
}

function showDoctor(box, res) {
  const findings = [...((res && res.findings) || [])]
    .sort((a, b) => severityRank(a.severity) - severityRank(b.severity));
  const ranAt = h('p', {id: 'doctor-ran-at', class: 'muted'},
    res && res.ran_at ? 'Last run ' + when(res.ran_at) : 'Not run yet.');
  if (!findings.length) {
    fill(box, ranAt, empty('doctor-empty', 'No findings: doctor found nothing to fix.'));
    return;
  }
  fill(box, ranAt, h('ul', {id: 'doctor-findings', class: 'findings'}, findings.map((f) =>
    h('li', {class: 'finding card sev-' + String(f.severity || 'info').toLowerCase(),
      'data-testid': 'finding', dataset: {id: f.id, severity: f.severity}},
    h('div', {class: 'finding-head'}, badge(f.severity || 'info'), ' ',
      h('strong', null, f.title || f.id), ' ', h('code', {class: 'muted'}, f.id || '')),
    f.subject ? h('p', {class: 'finding-subject'}, 'Where: ', h('code', null, String(f.subject))) : null,
    Array.isArray(f.evidence) && f.evidence.length
      ? h('ul', {class: 'finding-evidence'}, f.evidence.map((e) => h('li', null, String(e))))
      : (f.evidence && !Array.isArray(f.evidence)
        ? h('p', {class: 'finding-evidence'}, String(f.evidence)) : null),
    h('div', {class: 'finding-fix'}, h('span', {class: 'fix-label'}, 'Fix: '),
      h('pre', {tabindex: '0'}, f.fix || 'No fix recorded.'))))));
}
