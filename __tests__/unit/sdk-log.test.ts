// How one SDK log call becomes one printed line (src/sdk-log.ts): no object is ever serialised,
// a serialised request keeps only its method, URL and sanitised headers, registered secrets are
// redacted before the line is cut.
import assert from 'node:assert/strict';
import { Agent } from 'node:https';
import { describe, it } from 'node:test';
import { closeEnvironment } from '../../src/environment.ts';
import { describeArgument, formatArguments, SDK_LINE_LIMIT, sdkLogLine, withoutRequestInternals } from '../../src/sdk-log.ts';
import { secret } from '../../src/writer.ts';

const TOKEN = 'eyJhbGciOiJSUzI1NiJ9.eyJhdWQiOiJodHRwczovL21hbmFnZW1lbnQuYXp1cmUuY29tLyJ9.c2lnbmF0dXJlLW9mLWF0LWxlYXN0LXR3ZW50eS1jaGFycw';

describe('SDK log lines', () => {
  it('objects are named by their constructor, never serialised', () => {
    const agent = new Agent();
    assert.equal(describeArgument(agent), '[Agent]');
    assert.equal(describeArgument({ authorization: `Bearer ${TOKEN}` }), '[Object]');
    assert.equal(describeArgument(Object.create(null)), '[Object]');
    assert.equal(describeArgument(new Map([['a', TOKEN]])), '[Map]');
    assert.equal(describeArgument(new TypeError('no route')), 'no route');
    assert.equal(describeArgument(42), '42');
    assert.equal(formatArguments(['%s took %d ms: %o %%', 'GET', 12, agent, 'extra', { a: 1 }]), 'GET took 12 ms: [Agent] % extra [Object]');
    agent.destroy();
  });

  it('a serialised request keeps its method, URL and sanitised headers only', () => {
    const json = JSON.stringify({ url: 'https://management.azure.com/x?api-version=1', method: 'GET', headers: { authorization: 'REDACTED', accept: 'application/json' }, agent: { sockets: { x: [{ _header: `Authorization: Bearer ${TOKEN}` }] } } }, null, 2);
    assert.equal(withoutRequestInternals(`azure:arm-compute:info Request: ${json}`), 'azure:arm-compute:info Request: GET https://management.azure.com/x?api-version=1 {"authorization":"REDACTED","accept":"application/json"}');
    assert.equal(withoutRequestInternals('azure:x:info Request: {"url": '), 'azure:x:info Request: {"url": ', 'not a whole object: left to redaction');
    assert.equal(withoutRequestInternals('azure:x:info Request: {not json}'), 'azure:x:info Request: (not shown: not the JSON the SDK writes)');
  });

  it('secrets are redacted before a long line is cut', () => {
    secret(TOKEN);
    // Raw, the token straddles the cut; redacted first, no piece of it is left to cut.
    const line = sdkLogLine([`${'x'.repeat(SDK_LINE_LIMIT - 10)}${TOKEN}${'y'.repeat(100)}`]);
    assert.ok(!line.includes(TOKEN.slice(0, 12)), 'no piece of the token survives the cut');
    assert.ok(line.includes(`${'x'.repeat(10)}***y`) && line.endsWith('y … (93 more characters)'), line.slice(-80));
  });
});

describe('closeEnvironment', () => {
  it('removes what the table removes, and an AZURE_LOG_LEVEL the SDK would echo; names, never values', () => {
    const env: NodeJS.ProcessEnv = { AZURE_REGIONAL_AUTHORITY_NAME: 'evil.example/steal?r=', HTTPS_PROXY: 'http://proxy:3128', AZURE_CLIENT_ID: 'id', AZURE_LOG_LEVEL: 'info\n::add-mask::x', DEBUG: '*', TERM: 'xterm' };
    const removed = closeEnvironment(env);
    assert.deepEqual(removed.map((r) => r.name), ['AZURE_REGIONAL_AUTHORITY_NAME', 'DEBUG', 'AZURE_LOG_LEVEL']);
    assert.deepEqual(Object.keys(env).sort(), ['AZURE_CLIENT_ID', 'HTTPS_PROXY', 'TERM']);
    assert.ok(removed.every((r) => !r.why.includes('evil') && !r.why.includes('add-mask')));
    assert.deepEqual(closeEnvironment({ AZURE_LOG_LEVEL: 'verbose' }), []);
  });
});
