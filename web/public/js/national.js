// national.js — composing under another policy the node holds (a partner's
// national policy: docs/WEB.md, "National policies").
//
// The user's clearance is under the node's policy, and the node judges a
// post under a national policy by its equivalent under the node's policy.
// GET /api/v1/policy?policy=ID gives each national classification and
// category its `equivalent` there; from it this module makes what the
// picker (picker.js) needs to work unchanged on the national policy:
// - the clearance as the national policy would say it: a classification is
//   held when its equivalent is, a category when every category it
//   translates into is (so a label the picker calls readable is one the
//   node lets the author post; the node stays the judge);
// - banner colours: a national classification without colours of its own
//   takes its equivalent's (the node's policy gives the colours).
// Pure functions: nothing about any policy or nation is written here.
import { heldCategories, heldClassifications } from './picker.js';

const same = (a, b) => String(a).toLowerCase() === String(b).toLowerCase();

/** Is `policy` the node's own (or not a national one)? */
export function isNodePolicy(nodePolicy, policy) {
  return !policy || policy.node === true || policy.id === nodePolicy.id;
}

/** The national policy with its classifications coloured as their
 *  equivalents under the node's policy, where it gives no colour. */
export function withEquivalentColours(nodePolicy, policy) {
  if (isNodePolicy(nodePolicy, policy)) return policy;
  const classifications = policy.classifications.map((c) => {
    if (c.colour || !c.equivalent) return c;
    const eq = nodePolicy.classifications.find((n) => same(n.name, c.equivalent.classification));
    return eq ? { ...c, colour: eq.colour, foreground: eq.foreground } : c;
  });
  return { ...policy, classifications };
}

/** The user's clearance (under the node's policy) said under `policy`:
 *  {policy, classifications, categories} in the JSON clearance form. The
 *  node's own policy gives the clearance back unchanged. */
export function clearanceUnder(nodePolicy, clearance, policy) {
  if (isNodePolicy(nodePolicy, policy)) return clearance;
  const classes = new Set(heldClassifications(nodePolicy, clearance).map((c) => c.name));
  const held = [...heldCategories(nodePolicy, clearance)];
  const holds = (e) => held.some((c) => same(c.tagSet, e.tagSet) && same(c.name, e.name) &&
    same(c.type, e.type));
  const classifications = policy.classifications
    .filter((c) => c.equivalent && classes.has(c.equivalent.classification)).map((c) => c.name);
  const groups = [];
  for (const cat of policy.categories) {
    const eq = cat.equivalent || [];
    if (!eq.length || !eq.every(holds)) continue;
    const last = groups.find((g) => g.tagSet === cat.tagSet && g.type === cat.type);
    if (last) last.values.push(cat.name);
    else groups.push({ tagSet: cat.tagSet, type: cat.type, values: [cat.name] });
  }
  return { policy: policy.id, classifications, categories: groups };
}
