// The pacer's account of its waits: a span of the run's time, not a sum over parallel requests
// (issue 17: "Requests waited 909.6 s in all" on a 65 s run).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { PipelineRequest, PipelineResponse } from '@azure/core-rest-pipeline';
import { Pacer } from '../../src/azure/pacing.ts';

const URL_OF = 'https://management.example/subscriptions/s1/resourceGroups/rg/providers/Microsoft.Compute/virtualMachineScaleSets/';

function exchange(pacer: Pacer, i: number): Promise<PipelineResponse> {
  const request = { method: 'GET', url: `${URL_OF}vmss-${i}` } as PipelineRequest;
  // Every answer says the subscription's read budget is spent: later requests are spaced at 25 a second.
  const response = { request, status: 200, headers: { get: (name: string) => (name === 'x-ms-ratelimit-remaining-subscription-reads' ? '0' : undefined) } } as unknown as PipelineResponse;
  return pacer.policy().sendRequest(request, async () => response);
}

describe('pacing', () => {
  it('reports the time during which requests waited, and the longest wait, not their sum', async () => {
    const pacer = new Pacer();
    await exchange(pacer, 0);
    const started = Date.now();
    await Promise.all(Array.from({ length: 20 }, (_, i) => exchange(pacer, i + 1)));
    const wall = Date.now() - started;
    // 20 requests spaced 40 ms apart: the last waits about 800 ms; added up they would make 8.4 s.
    assert.ok(pacer.longestWaitMs >= 700 && pacer.longestWaitMs <= 900, `longest ${pacer.longestWaitMs} ms`);
    assert.ok(pacer.waitingMs >= 700 && pacer.waitingMs <= wall + 5, `waiting ${pacer.waitingMs} ms of ${wall} ms`);
  });
});
