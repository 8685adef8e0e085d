// release.js — pure: what a release request may propose, what narrowing
// an item may choose, the times sent, and the countdown to a deadline
// (docs/RELEASE.md, docs/WEB.md "Release requests").
//
// The request's picker starts from the item's label and only widens:
// values added to the permissive tag sets the label already uses (a nation
// added to "Releasable To"), a restrictive category dropped, or a lower
// classification (a downgrade) — so every label it makes admits everyone
// the item's label admits, and more. Narrowing is the reverse: values
// removed from permissive tag sets, or a higher classification the author
// holds. The node still decides (422 with its reason); this only keeps the
// choices sensible. Deadlines are typed and shown in UTC: the node is the
// clock; the countdown is the browser's reading of the node's deadline.

const PERMISSIVE = new Set(['permissive', 'enumeratedPermissive']);
const RESTRICTIVE = new Set(['restrictive', 'enumeratedRestrictive']);

function same(a, b) {
  return String(a).toLowerCase() === String(b).toLowerCase();
}

/** The values the request may add: [{tagSet, values: [cat...]}], in policy
 *  order, for each permissive tag set of `label` (not obsolete, allowed at
 *  the label's classification, not already in the label). */
export function widerChoices(policy, label) {
  const out = [];
  for (const g of label?.categories || []) {
    const cats = (policy?.categories || []).filter((c) => same(c.tagSet, g.tagSet) && PERMISSIVE.has(c.type));
    if (!cats.length) continue;
    const has = new Set(g.values.map((v) => String(v).toLowerCase()));
    const values = cats.filter((c) => !c.obsolete && !has.has(String(c.name).toLowerCase()) &&
      !(c.excludedBy || []).some((x) => same(x, label.classification)));
    if (values.length) out.push({ tagSet: g.tagSet, values });
  }
  return out;
}

/** The item's label with `added` ([{tagSet, value}]) put in its tag sets. */
export function widenedLabel(label, added) {
  return changedLabel(label, { added });
}

/** The label's values in restrictive tag sets, which a request may drop:
 *  [{tagSet, values: [name...]}]. */
export function droppableChoices(policy, label) {
  const out = [];
  for (const g of label?.categories || []) {
    const restrictive = (policy?.categories || []).some((c) => same(c.tagSet, g.tagSet) && RESTRICTIVE.has(c.type));
    if (restrictive && g.values.length) out.push({ tagSet: g.tagSet, values: [...g.values] });
  }
  return out;
}

/** The label's values in permissive tag sets, which narrowing may remove:
 *  [{tagSet, values: [name...]}]. */
export function removableChoices(policy, label) {
  const out = [];
  for (const g of label?.categories || []) {
    const permissive = (policy?.categories || []).some((c) => same(c.tagSet, g.tagSet) && PERMISSIVE.has(c.type));
    if (permissive && g.values.length) out.push({ tagSet: g.tagSet, values: [...g.values] });
  }
  return out;
}

function rank(policy, name) {
  const c = (policy?.classifications || []).find((x) => same(x.name, name));
  return c ? c.hierarchy : null;
}

/** The classifications below the label's (a downgrade), highest first. */
export function lowerClassifications(policy, label) {
  const at = rank(policy, label?.classification);
  if (at === null) return [];
  return (policy.classifications || []).filter((c) => c.hierarchy < at && !c.obsolete)
    .sort((a, b) => b.hierarchy - a.hierarchy);
}

/** The classifications above the label's among `held` (the author's, in
 *  policy order), lowest first: narrowing may raise it. */
export function higherClassifications(policy, label, held) {
  const at = rank(policy, label?.classification);
  if (at === null) return [];
  return (held || []).filter((c) => c.hierarchy > at).sort((a, b) => a.hierarchy - b.hierarchy);
}

/** The item's label changed: `added` and `removed` values ([{tagSet,
 *  value}]) and another `classification` (null: the same). Tag sets left
 *  with no value are dropped. */
export function changedLabel(label, { added = [], removed = [], classification = null } = {}) {
  const categories = [];
  for (const g of label.categories || []) {
    const keep = g.values.filter((v) => !removed.some((r) => same(r.tagSet, g.tagSet) && same(r.value, v)));
    const more = added.filter((a) => same(a.tagSet, g.tagSet) && !keep.some((v) => same(v, a.value)));
    const values = [...keep, ...more.map((a) => a.value)];
    if (values.length) categories.push({ ...g, values });
  }
  return { ...label, classification: classification || label.classification, categories };
}

/** Time left until `deadline` (ISO) at `now` (ms): {over, days, hours,
 *  minutes, seconds}; over when the deadline is reached. */
export function timeLeft(deadline, now) {
  const end = new Date(deadline).getTime();
  if (Number.isNaN(end)) return null;
  const left = Math.max(0, Math.floor((end - now) / 1000));
  return {
    over: end <= now,
    days: Math.floor(left / 86400),
    hours: Math.floor((left % 86400) / 3600),
    minutes: Math.floor((left % 3600) / 60),
    seconds: left % 60,
  };
}

/** "2 d 03 h 04 min 05 s" (French "2 j 03 h 04 min 05 s"): the days only
 *  when there are some, the rest always, so that it visibly ticks. */
export function leftText(left, lang = 'en') {
  if (!left) return '';
  const two = (n) => String(n).padStart(2, '0');
  const days = left.days ? `${left.days} ${lang === 'fr' ? 'j' : 'd'} ` : '';
  return `${days}${two(left.hours)} h ${two(left.minutes)} min ${two(left.seconds)} s`;
}

/** A <input type=datetime-local> value read as UTC ("2026-12-04T09:30" ->
 *  "2026-12-04T09:30:00Z"), or null when empty or not a time. */
export function utcDeadline(value) {
  const m = /^(\d{4}-\d{2}-\d{2})T(\d{2}:\d{2})(:\d{2})?$/.exec(String(value || '').trim());
  return m ? `${m[1]}T${m[2]}${m[3] || ':00'}Z` : null;
}

/** An ISO time shown in UTC to the minute: "2026-12-04 09:30 UTC". */
export function utcText(iso) {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return String(iso ?? '');
  return `${d.toISOString().slice(0, 16).replace('T', ' ')} UTC`;
}
