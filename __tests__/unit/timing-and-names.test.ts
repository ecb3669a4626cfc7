// Small pure pieces whose numbers matter: poll budget, backoff, assignment names.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { backoffMs, retryAfterMs } from '../../src/backoff.ts';
import { assignmentName } from '../../src/azure/roles.ts';
import { MAX_POLLS_PER_SECOND, pollIntervalMs } from '../../src/azure/scale-sets.ts';

describe('timing', () => {
  it('polls once a second alone, and keeps a fleet under the shared budget', () => {
    assert.equal(pollIntervalMs(1), 1000);
    assert.equal(pollIntervalMs(20), 1000);
    assert.equal(pollIntervalMs(50), 2500);
    for (const n of [1, 7, 50, 100]) assert.ok(n * (1000 / pollIntervalMs(n)) <= MAX_POLLS_PER_SECOND + 1e-9);
  });

  it('backs off 1 s, 2 s, 4 s … up to 30 s with jitter, and obeys Retry-After', () => {
    for (let attempt = 0; attempt < 10; attempt++) {
      const cap = Math.min(30_000, 1000 * 2 ** attempt);
      for (let i = 0; i < 20; i++) {
        const ms = backoffMs(attempt);
        assert.ok(ms >= cap / 2 && ms <= cap, `attempt ${attempt}: ${ms}`);
      }
    }
    const headers = (h: Record<string, string>) => ({ get: (n: string) => h[n] });
    assert.equal(backoffMs(0, headers({ 'retry-after': '7' })), 7000);
  });

  it('reads Retry-After in seconds, in milliseconds and as an HTTP date', () => {
    const headers = (h: Record<string, string>) => ({ get: (n: string) => h[n] });
    const now = Date.parse('2026-11-27T12:00:00Z');
    assert.equal(retryAfterMs(headers({ 'retry-after': '3' }), now), 3000);
    assert.equal(retryAfterMs(headers({ 'retry-after-ms': '250' }), now), 250);
    assert.equal(retryAfterMs(headers({ 'x-ms-retry-after-ms': '1500', 'retry-after': '9' }), now), 1500);
    assert.equal(retryAfterMs(headers({ 'retry-after': 'Fri, 27 Nov 2026 12:00:05 GMT' }), now), 5000);
    assert.equal(retryAfterMs(headers({ 'retry-after': 'Fri, 27 Nov 2026 11:00:00 GMT' }), now), 0);
    assert.equal(retryAfterMs(headers({ 'retry-after': 'soon' }), now), undefined);
    assert.equal(retryAfterMs(headers({}), now), undefined);
  });
});

describe('role assignment names', () => {
  const scope = '/subscriptions/0b1f6471-1bf0-4dda-aec3-cb9272f09590/resourceGroups/rg';
  const role = '/subscriptions/0b1f6471-1bf0-4dda-aec3-cb9272f09590/providers/Microsoft.Authorization/roleDefinitions/acdd72a7-3385-48ef-bd42-f606fba81ae7';
  it('are GUIDs, the same for the same scope, role and principal (any case), different otherwise', () => {
    const a = assignmentName(scope, role, '11111111-1111-4111-8111-111111111111');
    assert.match(a, /^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    assert.equal(assignmentName(scope.toUpperCase(), role, '11111111-1111-4111-8111-111111111111'), a);
    assert.notEqual(assignmentName(scope, role, '22222222-2222-4222-8222-222222222222'), a);
    assert.notEqual(assignmentName(`${scope}2`, role, '11111111-1111-4111-8111-111111111111'), a);
  });
});
