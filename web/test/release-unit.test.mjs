// release-unit.test.mjs — release.js without a browser: the request's
// picker only adds values to the label's permissive tag sets, drops
// restrictive ones or lowers the classification; narrowing removes values
// or raises it within what the author holds; the deadline typed is read as
// UTC; the countdown's words.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadPolicy } from './mock-server.mjs';
import { widerChoices, widenedLabel, utcDeadline, utcText, droppableChoices, removableChoices,
  lowerClassifications, higherClassifications, changedLabel, timeLeft, leftText } from '../public/js/release.js';

const policy = loadPolicy();
const relJpn = {
  policy: policy.id, classification: 'RESTRICTED',
  categories: [{ tagSet: 'Context', values: ['NATO', 'Releasable'] },
    { tagSet: 'Releasable To', values: ['NATO', 'JPN'] }],
};

test('a request offers only values the label lacks, in its permissive tag sets', () => {
  const groups = widerChoices(policy, relJpn);
  const rel = groups.find((g) => g.tagSet === 'Releasable To');
  assert.ok(rel, 'Releasable To is offered');
  const names = rel.values.map((c) => c.name);
  assert.ok(names.includes('KOR') && names.includes('AUS'), names.join(','));
  assert.ok(!names.includes('JPN') && !names.includes('NATO'), 'nothing already there');
  for (const g of groups) {
    for (const c of g.values) assert.ok(c.type === 'permissive' || c.type === 'enumeratedPermissive', `${c.tagSet} ${c.name}`);
  }
  assert.deepEqual(widerChoices(policy, { policy: policy.id, classification: 'UNCLASSIFIED' }), [], 'no category: nothing to add');
});

test('the widened label keeps every value and the classification, and adds the ticked ones', () => {
  const wide = widenedLabel(relJpn, [{ tagSet: 'Releasable To', value: 'KOR' }, { tagSet: 'Releasable To', value: 'JPN' }]);
  assert.equal(wide.classification, 'RESTRICTED');
  assert.deepEqual(wide.categories[1].values, ['NATO', 'JPN', 'KOR']);
  assert.deepEqual(wide.categories[0].values, ['NATO', 'Releasable']);
  assert.deepEqual(relJpn.categories[1].values, ['NATO', 'JPN'], 'the item\'s label is left alone');
});

test('deadlines are typed and shown in UTC', () => {
  assert.equal(utcDeadline('2026-12-04T09:30'), '2026-12-04T09:30:00Z');
  assert.equal(utcDeadline('2026-12-04T09:30:15'), '2026-12-04T09:30:15Z');
  assert.equal(utcDeadline(''), null);
  assert.equal(utcDeadline('tomorrow'), null);
  assert.equal(utcText('2026-12-04T09:30:00Z'), '2026-12-04 09:30 UTC');
  assert.equal(utcText('2026-12-04T10:30:00+01:00'), '2026-12-04 09:30 UTC');
});

test('a downgrade offers only lower classifications; narrowing only higher ones the author holds', () => {
  assert.deepEqual(lowerClassifications(policy, relJpn).map((c) => c.name), ['UNCLASSIFIED']);
  assert.deepEqual(lowerClassifications(policy, { ...relJpn, classification: 'UNCLASSIFIED' }), []);
  const held = policy.classifications.filter((c) => ['UNCLASSIFIED', 'RESTRICTED', 'CONFIDENTIAL', 'SECRET'].includes(c.name));
  assert.deepEqual(higherClassifications(policy, relJpn, held).map((c) => c.name), ['CONFIDENTIAL', 'SECRET']);
  assert.deepEqual(higherClassifications(policy, { ...relJpn, classification: 'SECRET' }, held), []);
});

test('narrowing removes values of permissive tag sets; a request may drop restrictive ones', () => {
  assert.deepEqual(removableChoices(policy, relJpn).map((g) => g.tagSet).sort(), ['Context', 'Releasable To']);
  assert.deepEqual(droppableChoices(policy, relJpn), [], 'no restrictive category in this label');
  const restrictive = policy.categories.find((c) => c.type === 'restrictive' || c.type === 'enumeratedRestrictive');
  const withR = { ...relJpn, categories: [...relJpn.categories, { tagSet: restrictive.tagSet, values: [restrictive.name] }] };
  assert.deepEqual(droppableChoices(policy, withR), [{ tagSet: restrictive.tagSet, values: [restrictive.name] }]);
  const dropped = changedLabel(withR, { removed: [{ tagSet: restrictive.tagSet, value: restrictive.name }] });
  assert.deepEqual(dropped.categories, relJpn.categories, 'a tag set left empty goes');
  const narrow = changedLabel(relJpn, { removed: [{ tagSet: 'Releasable To', value: 'NATO' }], classification: 'SECRET' });
  assert.equal(narrow.classification, 'SECRET');
  assert.deepEqual(narrow.categories[1].values, ['JPN']);
  assert.equal(relJpn.classification, 'RESTRICTED', 'the item\'s label is left alone');
});

test('the countdown: time left to the second, days when there are some, reached at the deadline', () => {
  const now = Date.parse('2026-12-03T12:00:00Z');
  assert.equal(leftText(timeLeft('2026-12-03T13:02:03Z', now)), '01 h 02 min 03 s');
  assert.equal(leftText(timeLeft('2026-12-05T13:02:03Z', now)), '2 d 01 h 02 min 03 s');
  assert.equal(leftText(timeLeft('2026-12-05T13:02:03Z', now), 'fr'), '2 j 01 h 02 min 03 s');
  assert.equal(timeLeft('2026-12-03T12:00:00Z', now).over, true);
  assert.equal(timeLeft('2026-12-03T12:00:01Z', now).over, false);
  assert.equal(leftText(timeLeft('2026-12-03T11:00:00Z', now)), '00 h 00 min 00 s');
  assert.equal(timeLeft('not a time', now), null);
});
