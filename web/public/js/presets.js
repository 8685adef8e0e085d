// presets.js — named releases offered in the picker ("AP4": AUS, JPN, KOR,
// NZL): the groups the operator sets, and the policy's own groups.
//
// Sources, all optional, merged by name (first wins):
// 1. `presets` of GET /api/v1/policy — groups the node states, if it does;
// 2. `groups` of GET /api/v1/policy — the SPIF's own groups of nations
//    (its `memberships`), the hook for the policy reader: [{name, en?, fr?,
//    tagSet?, values | members}];
// 3. presets.json beside the page (web/public/presets.json, served by the
//    node from its --web-dir): the operator's list.
// A preset: {name, en?, fr?, tagSet (default "Releasable To"), values}.

function norm(p, source) {
  const values = p.values || p.members || [];
  if (!p.name || !Array.isArray(values) || values.length === 0) return null;
  return { name: String(p.name), en: p.en || null, fr: p.fr || null,
    tagSet: p.tagSet || 'Releasable To', values: values.map(String), source };
}

/** The presets for `policy` (normalised policy JSON); fetches presets.json. */
export async function loadPresets(policy) {
  const lists = [[policy.presets, 'node'], [policy.groups, 'policy']];
  try {
    const res = await fetch('presets.json', { cache: 'no-store' });
    if (res.ok) lists.push([(await res.json()).presets, 'operator']);
  } catch { /* no operator list */ }
  const out = new Map();
  for (const [list, source] of lists) {
    for (const p of Array.isArray(list) ? list : []) {
      const n = norm(p, source);
      if (n && !out.has(n.name)) out.set(n.name, n);
    }
  }
  return [...out.values()];
}
