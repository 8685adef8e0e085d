// picker.test.mjs — the page's own rules, without a browser: what the label
// picker offers, the label it builds, and the client-side marking preview
// against the engine's pinned markings (tests/vectors/liaison/tests.xml).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadPolicy } from './mock-server.mjs';
import { markLabel, bannerColours } from '../public/js/marking.js';
import {
  catKey, heldClassifications, offeredTagSets, buildLabel, authorCannotRead, defaultChoices,
} from '../public/js/picker.js';
import { MESSAGES } from '../public/js/i18n.js';
import { categoryName, NATION_NAMES } from '../public/js/nations.js';

const policy = loadPolicy();
const natoStaff = {
  policy: 'NATO', maxClassification: 'TOP SECRET',
  categories: [{ tagSet: 'Context', type: 'permissive', values: ['NATO', 'Releasable'] },
    { tagSet: 'Releasable To', values: ['NATO'] }],
};
const jpnDesk = {
  policy: 'NATO', classifications: ['UNCLASSIFIED', 'RESTRICTED', 'CONFIDENTIAL', 'SECRET'],
  categories: [{ tagSet: 'Context', type: 'permissive', values: ['Releasable'] },
    { tagSet: 'Releasable To', type: 'enumeratedPermissive', values: ['JPN'] }],
};
const key = (tagSet, name) => catKey(policy.categories.find((c) => c.tagSet === tagSet && c.name === name));
const rel = (cls, nations) => ({
  policy: policy.id, classification: cls,
  categories: [{ tagSet: 'Context', type: 'permissive', values: ['NATO', 'Releasable'] },
    { tagSet: 'Releasable To', type: 'enumeratedPermissive', values: ['NATO', ...nations] }],
});

test('markings follow the engine (English and French)', () => {
  const cases = [
    [rel('RESTRICTED', ['JPN']), null, 'NATO RESTRICTED Releasable to JPN'],
    [rel('RESTRICTED', ['JPN']), 'fr', 'NATO DIFFUSION RESTREINTE Communicable à Japon'],
    [rel('SECRET', ['AUS', 'JPN', 'KOR', 'NZL']), null, 'NATO SECRET Releasable to AUS, JPN, KOR, NZL'],
    [rel('UNCLASSIFIED', ['CHE', 'JPN', 'UKR']), 'en-GB', 'NATO UNCLASSIFIED Releasable to CHE, JPN, UKR'],
    [{ policy: policy.id, classification: 'RESTRICTED', categories: [{ tagSet: 'Context', type: 'permissive', values: ['NATO'] }] }, 'fr-CA', 'NATO DIFFUSION RESTREINTE'],
    [{ policy: policy.id, classification: 'CONFIDENTIAL', categories: [{ tagSet: 'Context', type: 'permissive', values: ['NATO'] }, { tagSet: 'Additional Sensitivity', type: 'restrictive', values: ['ATOMAL'] }] }, null, 'NATO CONFIDENTIAL ATOMAL'],
    [{ policy: policy.id, classification: 'CONFIDENTIAL', categories: [{ tagSet: 'Context', type: 'permissive', values: ['NATO'] }, { tagSet: 'Additional Sensitivity', type: 'restrictive', values: ['ATOMAL'] }] }, 'fr', 'NATO CONFIDENTIEL ATOMAL'],
    [{ policy: policy.id, classification: 'TOP SECRET', categories: [{ tagSet: 'Context', type: 'permissive', values: ['NATO'] }] }, null, 'COSMIC TOP SECRET'],
    [{ policy: policy.id, classification: 'TOP SECRET', categories: [{ tagSet: 'Context', type: 'permissive', values: ['NATO'] }] }, 'fr', 'COSMIC TRES SECRET'],
  ];
  for (const [label, lang, want] of cases) assert.equal(markLabel(policy, label, lang), want);
});

test('banner colours come from the policy, with legible text', () => {
  assert.deepEqual(bannerColours(policy, 'RESTRICTED'), { background: '#6a3d9a', foreground: '#ffffff' });
  assert.equal(bannerColours(policy, 'TOP SECRET').foreground, '#111111', 'dark text on orange');
});

test('classifications offered never exceed the clearance', () => {
  assert.deepEqual(heldClassifications(policy, jpnDesk).map((c) => c.name), ['UNCLASSIFIED', 'RESTRICTED', 'CONFIDENTIAL', 'SECRET']);
  assert.equal(heldClassifications(policy, natoStaff).length, 5);
  assert.deepEqual(heldClassifications(policy, { policy: 'NATO', maxClassification: 'RESTRICTED' }).map((c) => c.name), ['UNCLASSIFIED', 'RESTRICTED']);
});

test('nations excluded at a classification are not offered', () => {
  const names = (cls) => offeredTagSets(policy, natoStaff, cls).find((g) => g.tagSet === 'Releasable To').offered.map((c) => c.name);
  assert.ok(names('RESTRICTED').includes('GEO'));
  assert.ok(!names('SECRET').includes('GEO') && !names('SECRET').includes('MNG'));
  assert.ok(names('SECRET').includes('JPN'));
  for (const p of ['JPN', 'KOR', 'AUS', 'NZL', 'CHE', 'UKR', 'AUT', 'IRL']) assert.ok(!names('TOP SECRET').includes(p), p);
  assert.ok(names('TOP SECRET').includes('FRA'), 'allies stay');
  const as = (cls, who) => offeredTagSets(policy, who, cls).find((g) => g.tagSet === 'Additional Sensitivity').offered.map((c) => c.name);
  assert.deepEqual(as('CONFIDENTIAL', jpnDesk), [], 'restrictive categories not held are not offered');
  assert.ok(!offeredTagSets(policy, natoStaff, 'RESTRICTED').flatMap((g) => g.offered).some((c) => c.obsolete));
});

test('releasing to Japan builds the label the policy requires, keeping the author a reader', () => {
  const chosen = new Set([key('Context', 'NATO'), key('Releasable To', 'JPN')]);
  const { label, implied, problems } = buildLabel(policy, natoStaff, 'RESTRICTED', chosen);
  // In policy order (Releasable To before Context; NATO after the nations),
  // as the engine writes labels.
  assert.deepEqual(label, {
    policy: policy.id, classification: 'RESTRICTED',
    categories: [{ tagSet: 'Releasable To', type: 'enumeratedPermissive', values: ['JPN', 'NATO'] },
      { tagSet: 'Context', type: 'permissive', values: ['NATO', 'Releasable'] }],
  });
  assert.equal(markLabel(policy, label, null), 'NATO RESTRICTED Releasable to JPN');
  assert.ok(implied.has(key('Context', 'Releasable')));
  assert.ok(implied.has(key('Releasable To', 'NATO')));
  assert.deepEqual(problems, []);
  assert.equal(authorCannotRead(policy, natoStaff, label), null);
  // Japan's desk officer releasing to Korea keeps JPN.
  // (and Releasable To NATO, which Context "Releasable" requires).
  const j = buildLabel(policy, jpnDesk, 'RESTRICTED', new Set([key('Context', 'NATO'), key('Releasable To', 'KOR')]));
  assert.deepEqual(j.label.categories.find((g) => g.tagSet === 'Releasable To').values, ['JPN', 'KOR', 'NATO']);
  assert.equal(authorCannotRead(policy, jpnDesk, j.label), null);
});

test('a NATO-only label is flagged as unreadable for a partner author; an excluded choice is dropped', () => {
  const { label } = buildLabel(policy, jpnDesk, 'RESTRICTED', new Set([key('Context', 'NATO')]));
  assert.match(authorCannotRead(policy, jpnDesk, label), /Context/);
  const s = buildLabel(policy, natoStaff, 'SECRET', new Set([key('Context', 'NATO'), key('Releasable To', 'GEO')]));
  assert.ok(!JSON.stringify(s.label).includes('GEO'));
  const r = buildLabel(policy, natoStaff, 'RESTRICTED', new Set([key('Context', 'Releasable')]));
  assert.ok(r.implied.has(key('Releasable To', 'NATO')), 'Releasable brings Releasable To NATO');
  assert.equal(r.problems.length, 1, 'Releasable without a nation is flagged (NATO, added by a rule, is no choice)');
  assert.match(r.guidance.join(' '), /Releasable: choose at least one of ALB, AUS, AUT… \(47\) in Releasable To/);
  // Ticking NATO by hand does not help: the rule lists the nations, not NATO.
  const n = buildLabel(policy, natoStaff, 'RESTRICTED',
    new Set([key('Context', 'Releasable'), key('Releasable To', 'NATO')]));
  assert.deepEqual(n.problems, ['Releasable needs at least one of ALB, AUS, AUT… (47) in Releasable To.']);
});

test('the policy JSON states the requirements the picker follows (requiredCategory)', () => {
  const relc = policy.categories.find((c) => c.tagSet === 'Context' && c.name === 'Releasable');
  const nato = policy.categories.find((c) => c.tagSet === 'Releasable To' && c.name === 'NATO');
  assert.ok(relc.requires.some((r) => r.operation === 'all' && r.tagSet === 'Releasable To' && r.lacv === nato.lacv));
  // One oneOrMore rule whose groups are the 42 nations and NATO's 5
  // partnerships and missions (NATO itself is not one of them).
  const nations = relc.requires.filter((r) => r.operation === 'oneOrMore');
  assert.equal(nations.length, 47);
  assert.equal(new Set(nations.map((r) => r.rule)).size, 1, 'the nations are one rule');
  assert.ok(nations.every((r) => r.tagSet === 'Releasable To' && r.lacv !== null && r.lacv !== nato.lacv));
});

test('picking a nation adds what "all" rules require, transitively, shown as implied', () => {
  const { label, implied, problems, guidance } = buildLabel(policy, jpnDesk, 'RESTRICTED', new Set([key('Releasable To', 'KOR')]));
  assert.match(implied.get(key('Context', 'Releasable')), /needed by KOR/);
  assert.match(implied.get(key('Releasable To', 'NATO')), /needed by Releasable/);
  assert.deepEqual(problems, []);
  assert.ok(guidance.length >= 1);
  assert.deepEqual(label.categories.find((g) => g.tagSet === 'Releasable To').values, ['JPN', 'KOR', 'NATO']);
  // Never above one's clearance, nor an excluded nation, implied or not.
  const s = buildLabel(policy, natoStaff, 'TOP SECRET', new Set([key('Releasable To', 'JPN')]));
  assert.ok(!JSON.stringify(s.label).includes('JPN'));
});

test('the default label is one the user may post: a partner releases to their own nation, NATO staff write Context NATO', () => {
  const j = buildLabel(policy, jpnDesk, 'RESTRICTED', defaultChoices(policy, jpnDesk, 'JPN', 'RESTRICTED'));
  assert.deepEqual(j.label.categories, [
    { tagSet: 'Releasable To', type: 'enumeratedPermissive', values: ['JPN', 'NATO'] },
    { tagSet: 'Context', type: 'permissive', values: ['Releasable'] }]);
  assert.equal(authorCannotRead(policy, jpnDesk, j.label), null);
  assert.deepEqual(j.problems, []);
  const n = buildLabel(policy, natoStaff, 'RESTRICTED', defaultChoices(policy, natoStaff, 'NATO', 'RESTRICTED'));
  assert.deepEqual(n.label.categories, [{ tagSet: 'Context', type: 'permissive', values: ['NATO'] }]);
  // Before this fix the default ignored the user: Context NATO for everyone.
  const old = buildLabel(policy, jpnDesk, 'RESTRICTED', defaultChoices(policy));
  assert.notEqual(authorCannotRead(policy, jpnDesk, old.label), null);
});

test('a refusal names the part that fails', () => {
  const { label } = buildLabel(policy, jpnDesk, 'RESTRICTED', new Set([key('Context', 'NATO')]));
  assert.match(authorCannotRead(policy, jpnDesk, label), /^Context: NATO\b/);
  assert.match(authorCannotRead(policy, jpnDesk, { policy: policy.id, classification: 'TOP SECRET' }), /TOP SECRET/);
  const a = { policy: policy.id, classification: 'RESTRICTED', categories: [{ tagSet: 'Additional Sensitivity', type: 'restrictive', values: ['ATOMAL'] }] };
  assert.match(authorCannotRead(policy, jpnDesk, a), /Additional Sensitivity: .*ATOMAL/);
});

test('the English and French message tables have the same keys, and nations have names in both', () => {
  assert.deepEqual(Object.keys(MESSAGES.fr).sort(), Object.keys(MESSAGES.en).sort());
  const jpn = policy.categories.find((c) => c.tagSet === 'Releasable To' && c.name === 'JPN');
  assert.equal(categoryName(jpn, 'en'), 'Japan');
  assert.equal(categoryName(jpn, 'fr'), 'Japon', 'French from the policy');
  for (const c of policy.categories.filter((x) => x.tagSet === 'Releasable To' && x.name !== 'NATO')) {
    assert.ok(NATION_NAMES[c.name], `a name for ${c.name}`);
  }
});

// A national policy as GET /api/v1/policy?policy=JPN-ILLUSTRATIVE gives it
// (the fields the picker uses; the node's test pins the rest).
const jpnPolicy = {
  id: '2.25.251642713772810140366533035959921199786', name: 'JPN-ILLUSTRATIVE', node: false,
  classifications: [['OPEN', 'UNCLASSIFIED', '公開'], ['TORIATSUKAI CHUI', 'RESTRICTED', '取扱注意'],
    ['HI', 'CONFIDENTIAL', '秘'], ['GOKUHI', 'SECRET', '極秘'], ['TOKUTEI HIMITSU', 'TOP SECRET', '特定秘密']]
    .map(([name, eq, ja], i) => ({ name, lacv: i + 1, hierarchy: i + 1, colour: null, markingJa: ja,
      equivalent: { classification: eq } })),
  categories: [['JPN', '日本'], ['NATO', 'NATO'], ['KOR', '韓国']].map(([name, ja]) => ({
    tagSet: 'Release', type: 'permissive', name, excludedBy: [], markingJa: ja,
    equivalent: [{ tagSet: 'Releasable To', type: 'enumeratedPermissive', name },
      { tagSet: 'Context', type: 'permissive', name: 'Releasable' }],
  })),
};

test('a national policy: the clearance said under it, its colours, the default label', async () => {
  const { clearanceUnder, withEquivalentColours, isNodePolicy } = await import('../public/js/national.js');
  assert.equal(clearanceUnder(policy, jpnDesk, policy), jpnDesk, 'the node\'s own policy: the clearance as it is');
  assert.ok(isNodePolicy(policy, policy) && !isNodePolicy(policy, jpnPolicy));
  const desk = clearanceUnder(policy, jpnDesk, jpnPolicy);
  assert.deepEqual(desk.classifications, ['OPEN', 'TORIATSUKAI CHUI', 'HI', 'GOKUHI'],
    'classifications whose equivalent the clearance holds: never above it');
  assert.deepEqual(desk.categories, [{ tagSet: 'Release', type: 'permissive', values: ['JPN'] }],
    'Japan\'s desk officer holds Release JPN (Releasable To JPN and Context Releasable), not NATO nor KOR');
  assert.deepEqual(heldClassifications(jpnPolicy, desk).map((c) => c.name), desk.classifications);
  const staff = clearanceUnder(policy, natoStaff, jpnPolicy);
  assert.deepEqual(staff.categories[0].values, ['NATO'], 'NATO staff hold Release NATO');

  // Default: released to one's own nation, at the second classification.
  const cls = heldClassifications(jpnPolicy, desk)[1].name;
  const d = defaultChoices(jpnPolicy, desk, 'JPN', cls);
  const built = buildLabel(jpnPolicy, desk, cls, d);
  assert.deepEqual(built.label, { policy: jpnPolicy.id, classification: 'TORIATSUKAI CHUI',
    categories: [{ tagSet: 'Release', type: 'permissive', values: ['JPN'] }] });
  assert.equal(authorCannotRead(jpnPolicy, desk, built.label), null);
  const toKorea = buildLabel(jpnPolicy, desk, cls, new Set([catKey(jpnPolicy.categories[2])]));
  assert.match(authorCannotRead(jpnPolicy, desk, toKorea.label) || '', /Release/,
    'released to Korea alone: the author could not read it (the node would refuse it)');

  const coloured = withEquivalentColours(policy, jpnPolicy);
  assert.deepEqual(bannerColours(coloured, 'GOKUHI'), bannerColours(policy, 'SECRET'),
    'a national classification takes its equivalent\'s colours');
  assert.equal(withEquivalentColours(policy, policy), policy);
});
