// Gatehouse admin dashboard: the JSON API client.
// Copyright the Gatehouse authors. SPDX-License-Identifier: Apache-2.0
//
// Same origin only (the CSP's connect-src 'self'). The session cookie is HttpOnly, so this code
// never sees a credential after login; fetch sends the cookie itself. The browser adds the Origin
// header on POST and DELETE, which the server checks against CSRF.

/** An API failure, carrying the RFC 9457 problem's fields when the server sent one. */
export class ApiError extends Error {
  constructor(status, problem) {
    super(problem.detail || problem.title || ('HTTP ' + status));
    this.status = status;
    this.code = problem.code || null;
    this.requestId = problem.request_id || null;
    this.errors = Array.isArray(problem.errors) ? problem.errors : [];
  }

  /** The message for a person: the detail, its errors, and the request id to match the log. */
  describe() {
    let m = this.message;
    if (this.errors.length) m += ': ' + this.errors.map(String).join('; ');
    if (this.code) m += ' (' + this.code + ')';
    if (this.requestId) m += ' [request ' + this.requestId + ']';
    return m;
  }
}

/** Calls the API; resolves to the parsed JSON (null for 204), rejects with ApiError. */
export async function api(method, path, body) {
  const init = {method, credentials: 'same-origin', headers: {Accept: 'application/json'},
    cache: 'no-store', redirect: 'error'};
  if (method !== 'GET') {
    init.headers['Content-Type'] = 'application/json';
    init.body = JSON.stringify(body === undefined ? {} : body);
  }
  let res;
  try {
    res = await fetch(path, init);
  } catch (e) {
    throw new ApiError(0, {detail: 'The gateway did not answer (' + e.message + ')'});
  }
  if (res.status === 204) return null;
  const text = await res.text();
  let data = null;
  try {
    data = text ? JSON.parse(text) : null;
  } catch (e) {
    data = null;
  }
  if (!res.ok) {
    throw new ApiError(res.status, data && typeof data === 'object' ? data
      : {detail: 'HTTP ' + res.status + ' ' + res.statusText});
  }
  return data;
}

/** Builds "path?a=1&b=2" from the non-empty entries of params. */
export function withQuery(path, params) {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params || {})) {
    if (v !== undefined && v !== null && String(v).trim() !== '') q.set(k, String(v).trim());
  }
  const qs = q.toString();
  return qs ? path + '?' + qs : path;
}
