// Retry-After is honoured as "not sooner than", and never as "at once": every loop that obeys
// it (src/backoff.ts, the status polls, the SDK's own retries of reads) waits at least a second.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createHttpHeaders, createPipelineRequest, type PipelineResponse } from '@azure/core-rest-pipeline';
import { askedWaitMs, backoffMs, MIN_RETRY_AFTER_MS, retryAfterFloorPolicy } from '../../src/backoff.ts';

const headers = (h: Record<string, string>) => ({ get: (n: string) => h[n] });
const now = Date.parse('2026-11-27T12:00:00Z');

describe('Retry-After floor', () => {
  it('raises 0, negative, past dates and 0 ms to a second; longer asks stand', () => {
    const asks: Record<string, string>[] = [{ 'retry-after': '0' }, { 'retry-after': '-1' }, { 'retry-after': 'Fri, 27 Nov 2026 11:00:00 GMT' }, { 'retry-after-ms': '0' }, { 'x-ms-retry-after-ms': '20' }, { 'retry-after': '0.2' }];
    for (const h of asks) {
      assert.equal(askedWaitMs(headers(h), now), MIN_RETRY_AFTER_MS, JSON.stringify(h));
      assert.equal(backoffMs(0, headers(h)), MIN_RETRY_AFTER_MS, JSON.stringify(h));
    }
    assert.equal(askedWaitMs(headers({ 'retry-after': '7' }), now), 7000);
    assert.equal(askedWaitMs(headers({ 'retry-after-ms': '1500' }), now), 1500);
    assert.equal(askedWaitMs(headers({}), now), undefined);
  });

  it("rewrites a throttled answer's ask for the SDK's retry policy, and leaves other answers alone", async () => {
    const request = createPipelineRequest({ url: 'https://management.example/x' });
    const answer = (status: number, h: Record<string, string>) => async (): Promise<PipelineResponse> => ({ request, status, headers: createHttpHeaders(h) });
    const policy = retryAfterFloorPolicy();
    const throttled: Record<string, string>[] = [{ 'retry-after': '0' }, { 'retry-after-ms': '-5', 'retry-after': '9' }, { 'x-ms-retry-after-ms': '0' }, { 'retry-after': 'Fri, 27 Nov 2020 11:00:00 GMT' }];
    for (const h of throttled) {
      const response = await policy.sendRequest(request, answer(429, h));
      assert.ok(Number(response.headers.get('retry-after-ms')) >= MIN_RETRY_AFTER_MS, JSON.stringify(h));
      assert.equal(response.headers.get('retry-after'), undefined);
      assert.equal(response.headers.get('x-ms-retry-after-ms'), undefined);
    }
    assert.equal((await policy.sendRequest(request, answer(503, { 'retry-after': '4' }))).headers.get('retry-after-ms'), '4000');
    assert.equal((await policy.sendRequest(request, answer(200, { 'retry-after': '0' }))).headers.get('retry-after'), '0');
    assert.equal((await policy.sendRequest(request, answer(429, {}))).headers.get('retry-after-ms'), undefined);
  });
});
