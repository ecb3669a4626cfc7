// When does a write count as sent? The action's own scale-set client (src/azure/scale-sets.ts)
// with its pacer, in process, through the real Azure SDK and HTTPS against the emulator: the
// hook fires for a write that reached ARM, and not for one a cancel stopped while it waited
// for ARM's write budget. Outputs rely on it ("nothing was written" vs "may have been applied").
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Pacer } from '../../src/azure/pacing.ts';
import type { IdentityPatch } from '../../src/plan.ts';
import { ScaleSets } from '../../src/azure/scale-sets.ts';
import { armScope, credential, trust } from '../support/clients.ts';
import { SUB, withEmulator } from '../support/emulator.ts';

const names = Array.from({ length: 7 }, (_, i) => `vmss-s-${i}`);
const ref = (name: string) => ({ subscriptionId: SUB, resourceGroup: 'rg-prod', name });
const patch: IdentityPatch = { identity: { type: 'SystemAssigned' } };

describe('a write counts as sent once its body is handed over', () => {
  it('fires for writes that reached ARM, not for writes a cancel stopped in the budget wait', () =>
    withEmulator({
      updateDurationMs: 20,
      // 12 writes at once: after two, 10 are left and the pacer spaces writes 100 ms apart.
      budgets: { writes: { capacity: 12, perSecond: 0.1 } },
      edit: (seed) => names.forEach((name) => seed.scaleSets?.push({ subscriptionId: SUB, resourceGroup: 'rg-prod', name })),
    }, async (em) => {
      trust(em);
      const scaleSets = new ScaleSets(credential(em), { resourceManager: em.urls.resourceManager, scope: armScope(em), pacer: new Pacer() }, 20);
      const sent = new Set<string>();
      const hooks = (name: string, signal: AbortSignal) => ({ signal, onSent: () => sent.add(name) });
      for (const name of names.slice(0, 2)) await scaleSets.update(ref(name), patch, undefined, hooks(name, new AbortController().signal));
      assert.deepEqual([...sent], names.slice(0, 2));

      const stop = new AbortController();
      const queued = names.slice(2).map((name) => scaleSets.update(ref(name), patch, undefined, hooks(name, stop.signal)).then(() => 'done', () => 'stopped'));
      setTimeout(() => stop.abort(new Error('cancelled')), 50);
      const outcomes = await Promise.all(queued);

      const patched = new Set(em.log.of('arm.vmss.patch').map((e) => e.path.split('/').pop()));
      assert.deepEqual([...sent].sort(), [...patched].sort(), 'sent exactly for the writes ARM received');
      // 100 ms apart, cancelled at 50 ms: the later ones were still waiting (exact counts bend under load).
      assert.ok(names.length - patched.size >= 3, `${patched.size} of ${names.length} reached ARM: ${outcomes.join(', ')}`);
      assert.equal(outcomes.at(-1), 'stopped');
    }));
});
