// picker.js — what the label picker may offer, and the label it builds.
//
// Pure functions over the policy JSON (GET /api/v1/policy) and the user's
// clearance (GET /api/v1/me), so the rules are tested without a browser:
// - classifications: only those the clearance holds (listed, or at most
//   its maxClassification by hierarchy) — never above one's own clearance;
// - categories: not obsolete, and not excluded at the chosen
//   classification (`excludedBy`); restrictive ones only when the clearance
//   holds them (a restrictive category one does not hold would lock the
//   author out, and the node refuses such a post with 403);
// - the label adds what the choices require (`requires` with operation
//   "all" naming a category, transitively: a nation needs Context
//   "Releasable", which needs Releasable To NATO), and, in an
//   enumerated permissive tag set with any value chosen, the values the
//   author's clearance holds there, so the author can still read the item
//   (NATO staff releasing to JPN keep NATO: Releasable To {NATO, JPN}).

import { t } from './i18n.js';

const RESTRICTIVE = new Set(['restrictive', 'enumeratedRestrictive']);

/** A key for a category: tag set, kind and name. */
export function catKey(cat) {
  return `${cat.tagSet}\u0000${cat.type}\u0000${cat.name}`;
}

function same(a, b) {
  return String(a).toLowerCase() === String(b).toLowerCase();
}

function findClass(policy, ref) {
  return policy.classifications.find((c) => same(c.name, ref) || c.lacv === Number(ref));
}

/** The classifications the clearance holds, in policy order. */
export function heldClassifications(policy, clearance) {
  const held = new Set();
  for (const ref of clearance?.classifications || []) {
    const c = findClass(policy, ref);
    if (c) held.add(c);
  }
  if (clearance?.maxClassification !== undefined) {
    const max = findClass(policy, clearance.maxClassification);
    if (max) for (const c of policy.classifications) if (c.hierarchy <= max.hierarchy) held.add(c);
  }
  return policy.classifications.filter((c) => held.has(c));
}

/** The categories the clearance holds (policy objects). */
export function heldCategories(policy, clearance) {
  const out = new Set();
  for (const g of clearance?.categories || []) {
    for (const v of g.values || []) {
      for (const c of policy.categories) {
        if (!same(c.tagSet, g.tagSet)) continue;
        if (g.type && !sameFamily(c.type, g.type)) continue;
        if (same(c.name, v) || c.lacv === Number(v)) out.add(c);
      }
    }
  }
  return out;
}

function family(t) {
  if (t === 'permissive' || t === 'enumeratedPermissive') return 'P';
  if (t === 'restrictive' || t === 'enumeratedRestrictive') return 'R';
  return 'I';
}

function sameFamily(a, b) {
  return family(a) === family(b === 'tagType7' ? 'informative' : b);
}

/** Is a category usable at the classification (by name)? */
export function allowedAt(cat, classification) {
  return !(cat.excludedBy || []).some((x) => same(x, classification));
}

/**
 * The tag sets the picker shows at `classification`:
 * [{tagSet, type, offered: [cat...], withheld: [{cat, why}]}] in policy order.
 */
export function offeredTagSets(policy, clearance, classification) {
  const held = heldCategories(policy, clearance);
  const groups = [];
  const byKey = new Map();
  for (const cat of policy.categories) {
    const k = `${cat.tagSet}\u0000${cat.type}`;
    let g = byKey.get(k);
    if (!g) {
      g = { tagSet: cat.tagSet, type: cat.type, offered: [], withheld: [] };
      byKey.set(k, g);
      groups.push(g);
    }
    if (cat.obsolete) continue;
    if (!allowedAt(cat, classification)) {
      g.withheld.push({ cat, why: t('why.excluded', classification) });
    } else if (RESTRICTIVE.has(cat.type) && !held.has(cat)) {
      g.withheld.push({ cat, why: t('why.notHeld') });
    } else {
      g.offered.push(cat);
    }
  }
  return groups.filter((g) => g.offered.length + g.withheld.length > 0);
}

function byRequirement(policy, req) {
  return policy.categories.find((c) => same(c.tagSet, req.tagSet) &&
    (req.lacv === null || req.lacv === undefined ? false : c.lacv === req.lacv));
}

/** A category's requirements grouped by rule: the entries of one rule
 *  (`rule` number) are counted together — a oneOrMore listing the nations
 *  is met by any one of them. An entry without `rule` is a rule of its own. */
function rulesOf(cat) {
  const rules = new Map();
  for (const req of cat.requires || []) {
    const k = req.rule ?? `entry${rules.size}`;
    if (!rules.has(k)) rules.set(k, { operation: req.operation, refs: [] });
    rules.get(k).refs.push(req);
  }
  return [...rules.values()];
}

/** A rule's categories in words: "JPN", "any value in Releasable To", or
 *  the first few of a long list ("ALB, AUS, AUT… (42) in Releasable To"). */
function describeRule(rule, named) {
  const tagSets = [...new Set(rule.refs.map((r) => r.tagSet))];
  if (rule.refs.some((r) => r.lacv == null)) return t('rule.anyIn', tagSets.join(', '));
  const names = named.map((n, i) => (n ? n.name : `#${rule.refs[i].lacv}`));
  const list = names.length > 4 ? `${names.slice(0, 3).join(', ')}… (${names.length})` : names.join(', ');
  return t('rule.listIn', list, tagSets.join(', '));
}

/**
 * The label the choices make. `chosen` is a Set of catKey()s the user
 * ticked. Returns {label, implied: Map(catKey -> reason), problems: [text],
 * guidance: [text]}: `implied` are the categories added — what "all" rules
 * naming a category require, transitively (JPN -> Context Releasable ->
 * Releasable To NATO) — and the author's own values kept; `guidance` says
 * what the other rules (oneOrMore, onlyOne) ask of the author.
 */
export function buildLabel(policy, clearance, classification, chosen) {
  const byKey = new Map(policy.categories.map((c) => [catKey(c), c]));
  const picked = new Set([...chosen].map((k) => byKey.get(k)).filter(Boolean)
    .filter((c) => allowedAt(c, classification)));
  const implied = new Map();
  const problems = [];

  // The author keeps read access in an enumerated permissive set.
  const held = heldCategories(policy, clearance);
  const sets = new Set([...picked].filter((c) => c.type === 'enumeratedPermissive').map((c) => c.tagSet));
  for (const c of held) {
    if (c.type === 'enumeratedPermissive' && sets.has(c.tagSet) && !picked.has(c) &&
        allowedAt(c, classification)) {
      picked.add(c);
      implied.set(catKey(c), t('implied.kept'));
    }
  }
  // Requirements (operation "all" with a named category), to a fixed point.
  for (let changed = true; changed;) {
    changed = false;
    for (const c of [...picked]) {
      for (const req of c.requires || []) {
        if (req.operation !== 'all') continue;
        const need = byRequirement(policy, req);
        if (need && !picked.has(need) && allowedAt(need, classification)) {
          picked.add(need);
          implied.set(catKey(need), t('implied.required', c.name));
          changed = true;
        }
      }
    }
  }
  // The other rules (oneOrMore, onlyOne, or "all" of a whole tag set) are
  // not filled in: they are the author's choice, so the picker gives
  // guidance, and a problem when unmet. A value a rule added (Releasable To
  // NATO) does not count as a choice: the author has not said to whom.
  const guidance = [];
  for (const c of picked) {
    for (const rule of rulesOf(c)) {
      if (rule.operation === 'all' && rule.refs.every((r) => r.lacv != null)) continue;
      const named = rule.refs.map((r) => (r.lacv == null ? null : byRequirement(policy, r)));
      const counts = (p) => rule.refs.some((r, i) => same(p.tagSet, r.tagSet) &&
        (r.lacv == null || p === named[i]));
      const matches = [...picked].filter((p) => p !== c && counts(p) &&
        !(implied.has(catKey(p)) && !chosen.has(catKey(p))));
      const what = describeRule(rule, named);
      if (rule.operation === 'onlyOne') {
        guidance.push(t('guide.one', c.name, what));
        if (matches.length !== 1) problems.push(t('problem.one', c.name, what));
      } else {
        guidance.push(t('guide.some', c.name, what));
        if (!matches.length) problems.push(t('problem.some', c.name, what));
      }
    }
  }

  const ordered = policy.categories.filter((c) => picked.has(c));
  const groups = [];
  for (const c of ordered) {
    const last = groups[groups.length - 1];
    if (last && last.tagSet === c.tagSet && last.type === c.type) last.values.push(c.name);
    else groups.push({ tagSet: c.tagSet, type: c.type, values: [c.name] });
  }
  const label = { policy: policy.id, classification };
  if (groups.length) label.categories = groups;
  return { label, implied, problems, guidance: [...new Set(guidance)] };
}

/** The default choices: the label most of a user's items carry, which the
 *  user may post. For a partner's user (`nation` names a value they hold in
 *  a permissive tag set, e.g. Releasable To JPN, or Release JPN under a
 *  national policy): released to
 *  their own nation (the rules then add Context Releasable and NATO). For
 *  the policy's own staff: the policy's context (a non-enumerated permissive
 *  category named as the policy: Context NATO). Empty when neither fits. */
export function defaultChoices(policy, clearance = null, nation = null, classification = null) {
  const ok = (set) => !classification ||
    authorCannotRead(policy, clearance, buildLabel(policy, clearance, classification, set).label) === null;
  if (nation && !same(nation, policy.name)) {
    for (const c of heldCategories(policy, clearance)) {
      if (family(c.type) === 'P' && same(c.name, nation) && !c.obsolete &&
          (!classification || allowedAt(c, classification))) {
        const set = new Set([catKey(c)]);
        if (ok(set)) return set;
      }
    }
  }
  const out = new Set();
  for (const c of policy.categories) {
    if (c.type === 'permissive' && same(c.name, policy.name) && !c.obsolete) out.add(catKey(c));
  }
  return !clearance || ok(out) ? out : new Set();
}

/** Why the author could not read a label — naming the part that fails —
 *  or null when they could (the node refuses such a post with 403; the
 *  picker says so beforehand, and says it again for the node's refusal). */
export function authorCannotRead(policy, clearance, label) {
  const classes = heldClassifications(policy, clearance);
  if (!classes.some((c) => same(c.name, label.classification))) {
    return t('lock.class', label.classification);
  }
  const held = heldCategories(policy, clearance);
  for (const g of label.categories || []) {
    const cats = g.values.map((v) => policy.categories.find((c) => c.tagSet === g.tagSet &&
      c.type === g.type && c.name === v)).filter(Boolean);
    const f = family(g.type);
    const missing = cats.filter((c) => !held.has(c)).map((c) => c.name);
    if (f === 'R' && missing.length) return t('lock.restrictive', g.tagSet, missing.join(', '));
    if (f === 'P' && !cats.some((c) => held.has(c))) return t('lock.permissive', g.tagSet, g.values.join(', '));
  }
  return null;
}
