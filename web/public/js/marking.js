// marking.js — display markings and banner colours, from the policy's data.
//
// Pure functions (no DOM), so node's test runner checks them too. The node's
// engine is the authority on markings: items carry `marking` / `marking_fr`
// computed by it, and the compose preview asks the node first
// (POST /api/v1/labels/mark). This module is the fallback preview: it
// follows the engine's rules (src/engine/marking.c) with the optional
// marking fields of the policy JSON (docs/WEB.md, "Policy JSON"):
//   POLICY CLASS TAGPREFIX cat TAGSEP cat ... (tag sets in policy order)
// - POLICY is the policy name, replaced by a replacePolicy phrase of the
//   classification or, failing that, of the first category that has one;
// - a category's text is its phrase in the language (else its name);
//   noNameDisplay / noMarkingDisplay hide it;
// - language fallback: exact tag, then primary subtag, then untagged.

// The portion form's entries ("NR" with portionMarking) are not the banner's.
const LOC_OTHER = new Set(['pageTop', 'documentStart', 'documentEnd', 'portionMarking']);
const LOC_BOTTOM = new Set(['pageBottom', 'pageTopBottom', 'noMarkingDisplay']);

function atBottom(codes) {
  return codes.some((c) => LOC_BOTTOM.has(c)) || !codes.some((c) => LOC_OTHER.has(c));
}

// 0 exact, 1 primary subtag, 2 untagged, -1 not for this language.
function langRank(entryLang, lang) {
  if (!entryLang) return 2;
  if (!lang) return -1;
  const a = entryLang.toLowerCase();
  const b = lang.toLowerCase();
  if (a === b) return 0;
  const base = b.split(/[-_]/)[0];
  if (base !== b && a === base) return 1;
  return -1;
}

// The markingData entry that speaks for `lang`, or null.
function pick(entries, lang) {
  if (!Array.isArray(entries) || entries.length === 0) return null;
  let best = 3;
  for (const e of entries) {
    const r = langRank(e.lang, lang);
    if (r >= 0 && r < best) best = r;
  }
  if (best === 3) return null;
  return entries.find((e) => langRank(e.lang, lang) === best && atBottom(e.codes || [])) || null;
}

function replacePhrase(entries, lang) {
  let best = null;
  let rank = 3;
  for (const e of entries || []) {
    const codes = e.codes || [];
    if (!codes.includes('replacePolicy') || !atBottom(codes)) continue;
    const r = langRank(e.lang, lang);
    if (r >= 0 && r < rank) { rank = r; best = e; }
  }
  return best;
}

function text(entry, name) {
  if (!entry) return name;
  const codes = entry.codes || [];
  if (codes.includes('noNameDisplay') || codes.includes('noMarkingDisplay')) return '';
  if (codes.includes('replacePolicy') || !entry.phrase) return name;
  return entry.phrase;
}

function quals(list, lang) {
  const out = {};
  for (const kind of ['prefix', 'suffix', 'separator']) {
    let best = null;
    let rank = 3;
    for (const q of list || []) {
      if (q.kind !== kind || q.code === 'portionMarking') continue;
      const r = langRank(q.lang, lang);
      if (r >= 0 && r < rank) { rank = r; best = q; }
    }
    out[kind] = best ? best.text : null;
  }
  return out;
}

/** True when the policy JSON carries the marking fields the preview needs. */
export function canMark(policy) {
  return Array.isArray(policy?.tagSets) &&
    policy.classifications.some((c) => Array.isArray(c.markingData));
}

/** The category of `policy` named `name` in tag set `tagSet`, or undefined. */
export function findCategory(policy, tagSet, name) {
  return policy.categories.find((c) => c.tagSet === tagSet && c.name === name);
}

/**
 * The display marking of a label (the JSON label form) in `lang`
 * ('' or null: the default language, 'fr': French).
 */
export function markLabel(policy, label, lang) {
  const lg = lang || null;
  const cls = policy.classifications.find((c) => c.name === label.classification);
  const chosen = [];
  for (const group of label.categories || []) {
    for (const v of group.values) {
      const cat = policy.categories.find((c) => c.tagSet === group.tagSet && c.name === v &&
        (!group.type || c.type === group.type));
      if (cat && !chosen.includes(cat)) chosen.push(cat);
    }
  }
  // Policy order, so the marking reads the same however the label was built.
  chosen.sort((a, b) => policy.categories.indexOf(a) - policy.categories.indexOf(b));

  let policyName = policy.name;
  const rc = cls && replacePhrase(cls.markingData, lg);
  if (rc) {
    policyName = rc.phrase || policyName;
  } else {
    for (const cat of chosen) {
      const r = replacePhrase(cat.markingData, lg);
      if (r) { policyName = r.phrase || policyName; break; }
    }
  }
  const parts = [policyName];
  if (cls) parts.push(text(pick(cls.markingData, lg), cls.name));

  for (const ts of policy.tagSets || []) {
    const shown = chosen
      .filter((c) => c.tagSet === ts.name && c.type === ts.type)
      .map((c) => text(pick(c.markingData, lg), c.name))
      .filter((t) => t !== '');
    if (shown.length === 0) continue;
    const q = quals(ts.qualifiers, lg);
    parts.push((q.prefix ?? '') + shown.join(q.separator ?? '/') + (q.suffix ?? ''));
  }
  return parts.filter((p) => p !== '').join(' ').replace(/\s+/g, ' ').trim();
}

/** The banner colours of a classification: background from the policy; text
 *  the node's `foreground` if it gives one that meets WCAG AA, else black
 *  or white, whichever contrasts more (WCAG relative luminance). */
export function bannerColours(policy, classificationName) {
  const cls = policy?.classifications.find((c) => c.name === classificationName);
  const bg = normaliseColour(cls?.colour) || '#5b6370';
  // The node's foreground only when it meets WCAG AA (4.5:1) on the colour.
  const given = normaliseColour(cls?.foreground);
  const fg = given && contrastRatio(given, bg) >= 4.5 ? given : contrastText(bg);
  return { background: bg, foreground: fg };
}

const NAMED = {
  red: '#ff0000', green: '#008000', blue: '#0000ff', orange: '#ffa500', yellow: '#ffff00',
  black: '#000000', white: '#ffffff', purple: '#800080', grey: '#808080', gray: '#808080',
  amber: '#ffbf00', magenta: '#ff00ff', cyan: '#00ffff', brown: '#a52a2a',
};

function normaliseColour(c) {
  if (typeof c !== 'string') return null;
  const s = c.trim().toLowerCase();
  if (/^#[0-9a-f]{6}$/.test(s)) return s;
  if (/^#[0-9a-f]{3}$/.test(s)) return '#' + [...s.slice(1)].map((x) => x + x).join('');
  return NAMED[s] || null;
}

function luminance(hex) {
  const ch = [1, 3, 5].map((i) => parseInt(hex.slice(i, i + 2), 16) / 255)
    .map((v) => (v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4));
  return 0.2126 * ch[0] + 0.7152 * ch[1] + 0.0722 * ch[2];
}

/** The WCAG contrast ratio of two #rrggbb colours (1 to 21). */
export function contrastRatio(a, b) {
  const [hi, lo] = [luminance(a), luminance(b)].sort((x, y) => y - x);
  return (hi + 0.05) / (lo + 0.05);
}

function contrastText(bg) {
  const l = luminance(bg);
  const withWhite = 1.05 / (l + 0.05);
  const withBlack = (l + 0.05) / 0.05;
  return withWhite >= withBlack ? '#ffffff' : '#111111';
}

/** A plain rendering of a label when neither the node nor the policy data
 *  can give its marking: the classification's own marking (the node's
 *  `marking` / `markingFr` of a classification, if any) and the categories
 *  by tag set. Marked approximate by the caller. */
export function plainMarking(policy, label, lang) {
  const cls = policy.classifications.find((c) => c.name === label.classification);
  const own = (lang === 'fr' ? cls?.markingFr ?? cls?.marking_fr : cls?.marking) || label.classification || '';
  const head = own.toUpperCase().startsWith(policy.name.toUpperCase()) ? own : `${policy.name} ${own}`.trim();
  // Values equal to the policy's name (NATO) are implied by the head.
  const shown = (label.categories || [])
    .map((g) => ({ ...g, values: g.values.filter((v) => v.toUpperCase() !== policy.name.toUpperCase()) }))
    .filter((g) => g.values.length)
    .map((g) => `${g.tagSet}: ${g.values.join(', ')}`);
  return [head, ...shown].join(' · ');
}
