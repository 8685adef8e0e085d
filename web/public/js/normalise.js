// normalise.js — the node's answers in the one shape the views use.
//
// docs/api/openapi.yaml writes snake_case keys (`user`, `marking_fr`,
// `clearance_marking`, `content_hash`) and a flat `categories` list in the
// policy; the first node build writes camelCase (`name`, `markingFr`,
// `clearanceMarking`, `contentHash`) and categories nested under
// `tagSets[].categories`, with `background`/`foreground` colours. The page
// accepts both, so neither side waits for the other. An item's attached
// document comes as {mediaType, size?, data?} (attachment.js); an item from
// a peer carries `origin {node, nation}` (null here for a local one).
import { normaliseAttachment } from './attachment.js';

/** GET /api/v1/me */
export function normaliseMe(me) {
  return {
    ...me,
    user: me.user ?? me.name ?? '',
    clearance_marking: me.clearance_marking ?? me.clearanceMarking ?? '',
    clearance_marking_fr: me.clearance_marking_fr ?? me.clearanceMarkingFr ?? null,
    // The node's request limit, when it states it (proposed; else its default).
    body_limit: Number.isFinite(me.bodyLimit) ? me.bodyLimit : Number.isFinite(me.body_limit) ? me.body_limit : null,
  };
}

/** An item (listing, fetch, search, stream). */
export function normaliseItem(it) {
  return {
    ...it,
    marking_fr: it.marking_fr ?? it.markingFr ?? null,
    content_hash: it.content_hash ?? it.contentHash ?? null,
    attachment: normaliseAttachment(it.attachment),
    origin: normaliseOrigin(it.origin),
  };
}

/** An item from a peer names its origin node ({node, nation}); a local
 *  item has none (null). */
function normaliseOrigin(o) {
  if (!o || typeof o.node !== 'string' || o.node === '') return null;
  return { node: o.node, nation: typeof o.nation === 'string' ? o.nation : null };
}

/** GET /api/v1/policy: a flat `categories` list (policy order), colours as
 *  `colour` (+ `foreground` when the node gives it). */
export function normalisePolicy(p) {
  const classifications = (p.classifications || []).map((c) => ({
    ...c, colour: c.colour ?? c.color ?? c.background ?? null,
  }));
  let categories = p.categories;
  let tagSets = p.tagSets;
  if (!Array.isArray(categories)) {
    categories = [];
    for (const ts of p.tagSets || []) {
      for (const c of ts.categories || []) categories.push({ tagSet: ts.name, ...c });
    }
    // The nested form's tag sets carry no marking qualifiers: not the
    // `tagSets` marking.js previews with.
    tagSets = undefined;
  }
  return { ...p, classifications, categories, tagSets };
}
