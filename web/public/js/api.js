// api.js — the node's HTTP API (docs/api/openapi.yaml), for the page.
//
// Every call carries `Authorization: Bearer TOKEN`, or (signed in with a
// password) the session cookie and, when it changes state, X-CSRF-Token. The live stream is read
// with fetch() and a small Server-Sent Events parser rather than
// EventSource, because EventSource cannot send that header and a token in a
// URL ends up in logs and history; resuming uses `Last-Event-ID`.

import { safeFileName } from './attachment.js';

/** An error from the node, with its stable code and a sentence for people. */
export class ApiError extends Error {
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

import { normaliseMe, normaliseItem, normalisePolicy } from './normalise.js';
import { t } from './i18n.js';

const PLAIN = ['unauthorized', 'forbidden', 'not_found', 'payload_too_large', 'unsupported_media_type',
  'unavailable', 'internal'];

/** A sentence for people, from an error or anything thrown (in the page's
 *  language; the node's own explanation, in English, is quoted after it). */
export function plainWords(err) {
  if (err instanceof ApiError) {
    if (err.code === 'invalid') return t('err.invalid', err.message);
    if (err.code === 'bad_request' || err.code === 'malformed_json') return t('err.refused', err.message);
    if (err.code === 'signin_refused') return t('err.signin_refused');
    if (err.code === 'signin_throttled') return t('err.signin_throttled', err.wait || 0);
    if (PLAIN.includes(err.code)) return t(`err.${err.code}`);
    return t('err.status', err.status);
  }
  return t('err.unreachable');
}

export class Api {
  constructor(base = '', token = '') {
    this.base = base;
    this.token = token;
  }

  // Without a token the page is in a web session: the browser sends the
  // HttpOnly cookie itself, and `csrf` (signin.js) goes with every request
  // that changes something.
  headers(extra = {}) {
    const h = { Accept: 'application/json', ...extra };
    if (this.token) h.Authorization = `Bearer ${this.token}`;
    return h;
  }

  async request(method, path, body) {
    const init = { method, headers: this.headers(), cache: 'no-store' };
    if (method !== 'GET' && this.csrf) init.headers['X-CSRF-Token'] = this.csrf;
    if (body !== undefined) {
      init.headers['Content-Type'] = 'application/json';
      init.body = JSON.stringify(body);
    }
    const res = await fetch(this.base + path, init);
    let data = null;
    const type = res.headers.get('Content-Type') || '';
    if (type.includes('json')) {
      try { data = await res.json(); } catch { data = null; }
    }
    if (!res.ok) {
      throw new ApiError(res.status, data?.error || `http_${res.status}`,
        data?.message || `HTTP ${res.status}`);
    }
    return data;
  }

  async me() { return normaliseMe(await this.request('GET', '/api/v1/me')); }
  /** The node's policy, or (`id`: OID or name) another it holds (a
   *  national policy, with each choice's equivalent under the node's). */
  async policy(id = null) {
    const q = id ? `?policy=${encodeURIComponent(id)}` : '';
    return normalisePolicy(await this.request('GET', `/api/v1/policy${q}`));
  }
  channels() { return this.request('GET', '/api/v1/channels'); }
  async item(id) { return normaliseItem(await this.request('GET', `/api/v1/items/${encodeURIComponent(id)}`)); }
  async search(q, limit = 100) {
    const res = await this.request('GET', `/api/v1/search?q=${encodeURIComponent(q)}&limit=${limit}`);
    return { ...res, items: (res?.items || []).map(normaliseItem) };
  }
  /** The JSON a post sends: {label, body, attachment?: {mediaType, data,
   *  fileName?}} (the file's name, made safe: safeFileName). */
  static postBody(label, body, attachment) {
    if (!attachment) return { label, body };
    const a = { mediaType: attachment.mediaType, data: attachment.data };
    const name = safeFileName(attachment.name);
    if (name) a.fileName = name;
    return { label, body, attachment: a };
  }
  post(channel, label, body, attachment) {
    return this.request('POST', `/api/v1/channels/${encodeURIComponent(channel)}/items`, Api.postBody(label, body, attachment));
  }
  /** The raw bytes of an item's document as a Blob (GET
   *  /api/v1/items/{id}/attachment; the route of the later node contract,
   *  for when GET /items/{id} gives no data). Throws ApiError. */
  async attachment(id) {
    const res = await fetch(`${this.base}/api/v1/items/${encodeURIComponent(id)}/attachment`,
      { headers: this.headers({ Accept: '*/*' }), cache: 'no-store' });
    if (!res.ok) {
      let data = null;
      try { data = await res.json(); } catch { data = null; }
      throw new ApiError(res.status, data?.error || `http_${res.status}`, data?.message || `HTTP ${res.status}`);
    }
    return res.blob();
  }
  /** The engine's markings of a label: {marking, marking_fr}. Proposed
   *  endpoint; a 404/405 means the node has none (the page then previews
   *  client-side). */
  mark(label) { return this.request('POST', '/api/v1/labels/mark', { label }); }

  /** Every visible item of a channel, oldest first (arrival order on the
   *  node), paged with the node's `next` cursor: an opaque string, passed
   *  back as it came (ids and cursors are never numbers to compare). */
  async items(channel, max = 5000) {
    const out = [];
    let after = null;
    const limit = 500;
    while (out.length < max) {
      const q = `?limit=${limit}${after !== null ? `&after=${encodeURIComponent(after)}` : ''}`;
      const page = await this.request('GET', `/api/v1/channels/${encodeURIComponent(channel)}/items${q}`);
      const items = (page?.items || []).map(normaliseItem);
      out.push(...items);
      // A page may end early (the node bounds a page's bytes): go on while
      // there is a cursor and the page was not empty.
      if (!items.length || typeof page?.next !== 'string') break;
      after = page.next;
    }
    return out;
  }

  /**
   * Follow the live stream: onItem(item) for each `item` event, onState(
   * 'live' | 'reconnecting') as the connection comes and goes, onNotice(
   * {id, event, state, deadline}) for each `release-request` notice (the
   * node sends one only to a request's proposer, authorities and auditors;
   * it has no event id and is never replayed). Reconnects with
   * Last-Event-ID after the node's `retry:` delay. Returns stop().
   */
  stream(onItem, onState = () => {}, onNotice = () => {}) {
    let stopped = false;
    let lastId = null;
    let retry = 3000;
    let ctrl = null;
    const run = async () => {
      while (!stopped) {
        ctrl = new AbortController();
        try {
          const headers = this.headers({ Accept: 'text/event-stream' });
          if (lastId !== null) headers['Last-Event-ID'] = String(lastId);
          const res = await fetch(this.base + '/api/v1/stream', { headers, signal: ctrl.signal, cache: 'no-store' });
          if (!res.ok || !res.body) throw new ApiError(res.status, `http_${res.status}`, 'stream refused');
          onState('live');
          await readEvents(res.body, (ev) => {
            if (ev.retry) retry = ev.retry;
            if (ev.id !== undefined && ev.id !== '') lastId = ev.id;
            if (ev.event === 'item' && ev.data) {
              let item;
              try { item = normaliseItem(JSON.parse(ev.data)); } catch { return; /* a bad frame is skipped */ }
              onItem(item);
            } else if (ev.event === 'release-request' && ev.data) {
              let notice;
              try { notice = JSON.parse(ev.data); } catch { return; }
              if (notice && typeof notice.id === 'string') onNotice(notice);
            }
          });
        } catch (e) {
          if (stopped) return;
          if (e instanceof ApiError && e.status === 401) { onState('unauthorized'); return; }
        }
        if (stopped) return;
        onState('reconnecting');
        await new Promise((r) => setTimeout(r, retry));
      }
    };
    run();
    return () => { stopped = true; ctrl?.abort(); };
  }
}

/** Parse a text/event-stream body, calling onEvent({id, event, data, retry}). */
export async function readEvents(body, onEvent) {
  const reader = body.pipeThrough(new TextDecoderStream()).getReader();
  let buf = '';
  let ev = { data: [] };
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return;
    buf += value;
    let nl;
    while ((nl = buf.search(/\r\n|\r|\n/)) >= 0) {
      const line = buf.slice(0, nl);
      buf = buf.slice(nl + (buf.startsWith('\r\n', nl) ? 2 : 1));
      if (line === '') {
        if (ev.data.length || ev.retry) {
          onEvent({ id: ev.id, event: ev.event || 'message', data: ev.data.join('\n'), retry: ev.retry });
        }
        ev = { data: [] };
        continue;
      }
      if (line.startsWith(':')) continue;
      const colon = line.indexOf(':');
      const field = colon < 0 ? line : line.slice(0, colon);
      let val = colon < 0 ? '' : line.slice(colon + 1);
      if (val.startsWith(' ')) val = val.slice(1);
      if (field === 'data') ev.data.push(val);
      else if (field === 'event') ev.event = val;
      else if (field === 'id') ev.id = val;
      else if (field === 'retry' && /^\d+$/.test(val)) { ev.retry = Number(val); }
    }
  }
}
