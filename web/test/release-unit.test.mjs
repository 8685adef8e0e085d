// release-unit.test.mjs — release.js without a browser: the request's
// picker only adds values to the label's permissive tag sets, and the
// deadline typed is read as UTC.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadPolicy } from './mock-server.mjs';
import { widerChoices, widenedLabel, utcDeadline, utcText } from '../public/js/release.js';

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
