// release.js — pure: what a release request may propose, and the times it
// sends (docs/RELEASE.md, docs/WEB.md "Release requests").
//
// The request's picker starts from the item's label and only adds: values
// of the permissive tag sets the label already uses (a nation added to
// "Releasable To"), never a removal nor another classification — so every
// label it makes admits everyone the item's label admits, and more. The
// node still decides (422 with its reason); this only keeps the choices
// sensible. Deadlines are typed and shown in UTC: the node is the clock.

const PERMISSIVE = new Set(['permissive', 'enumeratedPermissive']);

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
  const categories = (label.categories || []).map((g) => {
    const more = added.filter((a) => same(a.tagSet, g.tagSet) && !g.values.some((v) => same(v, a.value)));
    return { ...g, values: [...g.values, ...more.map((a) => a.value)] };
  });
  return { ...label, categories };
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
