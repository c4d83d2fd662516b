// Gatehouse admin dashboard: DOM helpers.
// Copyright the Gatehouse authors. SPDX-License-Identifier: Apache-2.0
//
// Every text shown comes from the API, and much of it from clients (paths, user agents, key
// names), so nothing is ever parsed as HTML: h() sets text with textContent and attributes with
// setAttribute, never innerHTML. That keeps a hostile audit record from becoming markup.

/** Creates an element: h('a', {href: '#/x', class: 'y'}, 'text', child, [more]). */
export function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  setAttrs(el, attrs);
  append(el, children);
  return el;
}

const SVG_NS = 'http://www.w3.org/2000/svg';

/** Creates an SVG element (same contract as h). */
export function s(tag, attrs, ...children) {
  const el = document.createElementNS(SVG_NS, tag);
  setAttrs(el, attrs);
  append(el, children);
  return el;
}

function setAttrs(el, attrs) {
  if (!attrs) return;
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith('on') && typeof v === 'function') {
      el.addEventListener(k.slice(2), v);
    } else if (k === 'dataset') {
      for (const [dk, dv] of Object.entries(v)) {
        if (dv !== undefined && dv !== null) el.dataset[dk] = String(dv);
      }
    } else if (k === 'style') {
      // A style attribute is an inline style, which the CSP forbids; use a class instead.
      throw new Error('style attribute not allowed');
    } else {
      el.setAttribute(k, v === true ? '' : String(v));
    }
  }
}

function append(el, children) {
  for (const c of children.flat(Infinity)) {
    if (c === undefined || c === null || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
}

/** Replaces an element's content with the given children. */
export function fill(el, ...children) {
  el.replaceChildren();
  append(el, children);
  return el;
}

/** A table in a horizontally scrolling, keyboard-focusable wrapper (wide tables on a phone). */
export function table(caption, headers, rows, attrs) {
  return h('div', {class: 'table-wrap', tabindex: '0', role: 'region', 'aria-label': caption},
    h('table', attrs,
      h('caption', {class: 'visually-hidden'}, caption),
      h('thead', null, h('tr', null, headers.map((x) => h('th', {scope: 'col'}, x)))),
      h('tbody', null, rows)));
}

/** A labelled form field; returns the wrapper, whose .input is the control. */
export function field(id, label, attrs = {}, hint) {
  const hintId = hint ? id + '-hint' : undefined;
  const input = attrs.tag === 'select'
    ? h('select', {id, name: attrs.name || id, 'aria-describedby': hintId},
      (attrs.options || []).map(([v, t]) => h('option', {value: v, selected: v === attrs.value}, t)))
    : h('input', {id, name: attrs.name || id, type: attrs.type || 'text', value: attrs.value,
      placeholder: attrs.placeholder, required: attrs.required, autocomplete: 'off',
      spellcheck: 'false', inputmode: attrs.inputmode, 'aria-describedby': hintId});
  const wrap = h('div', {class: 'field'}, h('label', {for: id}, label), input,
    hint ? h('small', {id: hintId, class: 'hint'}, hint) : null);
  wrap.input = input;
  return wrap;
}

/** A short time for tables: "2026-05-01 12:03:04Z", or an em dash when absent. */
export function when(iso) {
  if (!iso) return '\u2014';
  const t = String(iso);
  return t.replace('T', ' ').replace(/\.\d+Z$/, 'Z');
}

/** A number with thousands separators, or rounded to one decimal for rates. */
export function num(v, decimals = 0) {
  if (v === undefined || v === null || Number.isNaN(Number(v))) return '\u2014';
  return Number(v).toLocaleString('en-US', {maximumFractionDigits: decimals,
    minimumFractionDigits: decimals});
}

/** A block of copyable text (a secret or a command) with a Copy button. */
export function copyBlock(id, label, text, announce) {
  const code = h('code', {id, class: 'copy-text', tabindex: '0'}, text);
  const btn = h('button', {type: 'button', id: id + '-copy', class: 'secondary', 'data-testid': 'copy'},
    'Copy');
  btn.addEventListener('click', async () => {
    const ok = await copy(text, code);
    btn.textContent = ok ? 'Copied' : 'Select and copy';
    announce(ok ? label + ' copied to the clipboard.' : 'Copy failed: select the text and copy it.');
  });
  return h('div', {class: 'copy-block'}, h('div', {class: 'copy-label'}, label),
    h('div', {class: 'copy-row'}, h('pre', null, code), btn));
}

async function copy(text, node) {
  try {
    if (navigator.clipboard && window.isSecureContext) {
      await navigator.clipboard.writeText(text);
      return true;
    }
  } catch (e) {
    // fall through to selecting the text
  }
  const range = document.createRange();
  range.selectNodeContents(node);
  const sel = window.getSelection();
  sel.removeAllRanges();
  sel.addRange(range);
  try {
    return document.execCommand('copy');
  } catch (e) {
    return false;
  }
}
