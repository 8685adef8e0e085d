// tests/api/conformance.mjs — checks one HTTP exchange (a request and the
// node's answer) against docs/api/openapi.yaml with openapi-backend (routing,
// parameter and body validation with Ajv) and returns the violations found.
//
// What is a violation:
// - an answer whose status the spec does not list for the operation;
// - an answer whose Content-Type is not one the spec lists for that status;
// - a JSON answer (or a stream event's data) that does not match its schema,
//   or that holds an integer beyond what a JavaScript client can hold
//   exactly (2^53 - 1);
// - a documented header that is wrong, a `required` one that is missing
//   (401's WWW-Authenticate, an attachment's Content-Disposition), and the
//   convention of the spec's description: every API answer carries
//   `Cache-Control: no-store` and `X-Content-Type-Options: nosniff`;
// - a request that the spec calls invalid (a parameter out of range, a body
//   that does not match, a missing bearer token, not JSON) answered with
//   anything but a 4xx: the node accepted what its API says it refuses;
// - a request to an /api/ path or method the spec does not have answered
//   with anything but 404 or 405 and an `Error` body.
// Paths outside the API (the web page's files) are not the spec's business.
import { OpenAPIBackend } from 'openapi-backend';
import addFormats from 'ajv-formats';

const API_PATHS = /^\/(api\/|healthz$|metrics$)/;

function mediaType(contentType) {
  return (contentType || '').split(';')[0].trim().toLowerCase();
}

// The documented response for a status: exact, then 4XX-style, then default.
function documentedResponse(operation, status) {
  const responses = operation.responses || {};
  return responses[String(status)] || responses[`${String(status)[0]}XX`] ||
    responses[`${String(status)[0]}xx`] || responses.default || null;
}

function contentMatches(documented, actual) {
  return Object.keys(documented).some((key) => {
    const k = key.toLowerCase();
    if (k === '*/*' || k === actual) return true;
    return k.endsWith('/*') && actual.startsWith(k.slice(0, -1));
  });
}

// Integer literals in JSON text that a JavaScript number cannot hold
// exactly. Scans outside strings only.
export function unsafeIntegers(text) {
  const found = [];
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (inString) {
      if (c === '\\') i++;
      else if (c === '"') inString = false;
      continue;
    }
    if (c === '"') { inString = true; continue; }
    if (c === '-' || (c >= '0' && c <= '9')) {
      const m = /^-?\d+(\.\d+)?([eE][+-]?\d+)?/.exec(text.slice(i, i + 400));
      if (m && !m[1] && !m[2] && !Number.isSafeInteger(Number(m[0]))) found.push(m[0]);
      i += m ? m[0].length - 1 : 0;
    }
  }
  return found;
}

function describe(errors) {
  return (errors || []).map((e) => `${e.instancePath || '/'} ${e.message}` +
    (e.params && e.params.allowedValues ? ` (${e.params.allowedValues.join(', ')})` : '') +
    (e.params && e.params.additionalProperty ? ` (${e.params.additionalProperty})` : ''))
    .join('; ');
}

// The spec itself checked against the OpenAPI 3.0 schema (seconds: done
// once, by the self-test, not by every proxy). Throws when it is not valid.
export async function checkSpec(specPath) {
  const api = new OpenAPIBackend({ definition: specPath, strict: true, validate: true, quick: false });
  await api.init();
}

export async function makeChecker(specPath) {
  const api = new OpenAPIBackend({
    definition: specPath,
    strict: true,
    validate: true,
    quick: true,    // validators compiled when first used; no spec check (checkSpec)
    ajvOpts: { allErrors: true, strict: false },
    customizeAjv: (ajv) => { addFormats(ajv); return ajv; },
  });
  await api.init();
  const doc = api.definition; // dereferenced
  const ajv = api.validator.getAjv('response');
  const itemValidator = ajv.compile(doc.components.schemas.Item);
  const errorValidator = ajv.compile(doc.components.schemas.Error);
  const noticeValidator = ajv.compile(doc.components.schemas.ReleaseNotice);
  // An event's id is what a client sends back as Last-Event-ID.
  const lastEventId = (api.router.getOperation('streamItems').parameters || [])
    .find((p) => p.in === 'header' && p.name.toLowerCase() === 'last-event-id');
  const eventIdValidator = ajv.compile(lastEventId ? lastEventId.schema : { type: 'string' });

  // The request as the spec sees it: is it one the node must refuse?
  function requestProblems(operation, ex, url) {
    const problems = [];
    const headers = ex.reqHeaders;
    const security = operation.security || doc.security || [];
    // A requirement is met when each of its schemes is: a bearer token
    // (the scheme is case-insensitive, RFC 9110 §11.1), or an API key in a
    // cookie (the web page's session).
    const schemes = (doc.components && doc.components.securitySchemes) || {};
    const met = (name) => {
      const sc = schemes[name] || {};
      if (sc.type === 'http' && sc.scheme === 'bearer')
        return /^Bearer +\S+$/i.test(headers.authorization || '');
      if (sc.type === 'apiKey' && sc.in === 'cookie')
        return (headers.cookie || '').split(/; */).some((c) => c.startsWith(`${sc.name}=`) &&
                                                             c.length > sc.name.length + 1);
      return false;
    };
    if (security.length && !security.some((s) => Object.keys(s).every(met))) {
      problems.push('no bearer token or session cookie');
    }
    let body;
    if (operation.requestBody) {
      const type = mediaType(headers['content-type']);
      if (!operation.requestBody.content[type]) {
        problems.push(`request Content-Type "${type}" is not documented`);
      } else {
        try {
          body = JSON.parse(ex.reqBody.toString('utf8'));
        } catch {
          problems.push('request body is not JSON');
        }
      }
    }
    const result = api.validator.validateRequest({
      method: ex.method.toLowerCase(),
      path: url.pathname,
      query: url.search.slice(1),
      headers,
      body,
    }, operation);
    if (!result.valid) {
      // A body that was not JSON at all was reported above.
      const errors = body === undefined && operation.requestBody
        ? result.errors.filter((e) => !e.instancePath.startsWith('/requestBody'))
        : result.errors;
      if (errors.length) problems.push(describe(errors));
    }
    return problems;
  }

  // Checks the answer's head and, unless it is a stream, its body.
  function check(ex) {
    const url = new URL(ex.url, 'http://node');
    const where = `${ex.method} ${ex.url} -> ${ex.status}`;
    const violations = [];
    const notes = [];
    const bad = (message) => violations.push(`${where}: ${message}`);
    if (!API_PATHS.test(url.pathname)) return { api: false, violations, notes };

    const operation = api.router.matchOperation({
      method: ex.method.toLowerCase(), path: url.pathname, headers: ex.reqHeaders,
    });
    const type = mediaType(ex.resHeaders['content-type']);
    if (!/(^|,)\s*no-store\s*(,|$)/.test(ex.resHeaders['cache-control'] || '')) {
      bad('no "Cache-Control: no-store" (every API answer must carry it)');
    }
    if (ex.resHeaders['x-content-type-options'] !== 'nosniff') {
      bad('no "X-Content-Type-Options: nosniff" (every API answer must carry it)');
    }
    if (!operation) {
      // Not in the spec: the only right answer is a refusal, as an Error.
      let body;
      try {
        body = JSON.parse((ex.resBody || '').toString('utf8'));
      } catch { /* reported below */ }
      if (ex.status !== 404 && ex.status !== 405) {
        bad('no operation in the spec for this method and path, yet not answered 404/405');
      } else if (type !== 'application/json' || !errorValidator(body)) {
        bad(`a ${ex.status} for a path or method not in the spec is not an Error: ${describe(errorValidator.errors)}`);
      }
      return { api: true, violations, notes };
    }
    const opName = operation.operationId;

    const problems = requestProblems(operation, ex, url);
    if (problems.length && (ex.status < 400 || ex.status >= 500)) {
      bad(`the spec calls this request invalid (${problems.join('; ')}), ` +
          `yet ${opName} answered ${ex.status}, not a 4xx refusal`);
    }
    if (!problems.length && ex.status === 400) {
      // Not a violation (a 400 may come from what a schema cannot say:
      // duplicate keys, a page too large), but a constraint the spec may
      // be missing: shown to people, not counted.
      notes.push(`${where}: a request valid by the spec refused with 400: ` +
        (ex.resBody || '').toString('utf8').slice(0, 200));
    }

    const response = documentedResponse(operation, ex.status);
    if (!response) {
      bad(`status ${ex.status} is not documented for ${opName}`);
      return { api: true, violations, notes };
    }
    if (response.content && !contentMatches(response.content, type)) {
      bad(`Content-Type "${type}" is not documented for ${opName} ${ex.status} ` +
          `(${Object.keys(response.content).join(', ')})`);
    }

    // Node gives Set-Cookie as a list (one per cookie): as the text of each.
    const resHeaders = Object.fromEntries(Object.entries(ex.resHeaders)
      .map(([k, v]) => [k, Array.isArray(v) ? v.join(', ') : v]));
    const headerResult = api.validator.validateResponseHeaders(resHeaders, operation,
      { statusCode: ex.status });
    if (!headerResult.valid) bad(`headers: ${describe(headerResult.errors)}`);
    // openapi-backend checks the documented headers that are present; a
    // header the spec says is `required` must be there too.
    for (const [name, header] of Object.entries(response.headers || {})) {
      if (header.required && ex.resHeaders[name.toLowerCase()] === undefined) {
        bad(`headers: the required header ${name.toLowerCase()} is missing`);
      }
    }


    if (type === 'application/json' && ex.resBody) {
      const text = ex.resBody.toString('utf8');
      let body;
      try {
        body = JSON.parse(text);
      } catch {
        bad('the body is not JSON');
        return { api: true, violations, notes };
      }
      const big = unsafeIntegers(text);
      if (big.length) {
        bad(`integers beyond what a JavaScript client can hold exactly: ${big.slice(0, 3).join(', ')}`);
      }
      const result = api.validator.validateResponse(body, operation, ex.status);
      if (!result.valid) bad(`body: ${describe(result.errors)}`);
    }
    return { api: true, violations, notes };
  }

  // One Server-Sent Event of a stream (its lines joined): its `id:` a valid
  // Last-Event-ID, an `item` event's data an Item, a `release-request`
  // notice's a ReleaseNotice (and no id).
  function checkEvent(ex, event) {
    const where = `${ex.method} ${ex.url} -> ${ex.status} (event)`;
    const violations = [];
    const fields = { data: [] };
    for (const line of event.split('\n')) {
      if (line === '' || line.startsWith(':')) continue;
      const colon = line.indexOf(':');
      const name = colon < 0 ? line : line.slice(0, colon);
      const value = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '');
      if (name === 'data') fields.data.push(value);
      else fields[name] = value;
    }
    if (fields.id !== undefined && !eventIdValidator(fields.id)) {
      violations.push(`${where}: event id "${fields.id}" is not a Last-Event-ID the spec accepts`);
    }
    if (fields.event === 'item') {
      const text = fields.data.join('\n');
      try {
        const item = JSON.parse(text);
        const big = unsafeIntegers(text);
        if (big.length) violations.push(`${where}: integers beyond what a JavaScript client can hold exactly: ${big.join(', ')}`);
        if (!itemValidator(item)) violations.push(`${where}: data: ${describe(itemValidator.errors)}`);
      } catch {
        violations.push(`${where}: item data is not JSON`);
      }
    }
    if (fields.event === 'release-request') {
      if (fields.id !== undefined) violations.push(`${where}: a release-request notice has an id`);
      try {
        const notice = JSON.parse(fields.data.join('\n'));
        if (!noticeValidator(notice)) violations.push(`${where}: data: ${describe(noticeValidator.errors)}`);
      } catch {
        violations.push(`${where}: release-request data is not JSON`);
      }
    }
    return violations;
  }

  return { check, checkEvent };
}
