// `npm run emulator`: starts, prints the environment to export, serves state and the request
// log, accepts faults over HTTP, and stops on SIGTERM.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { request } from 'node:https';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';

function get(url: string, ca: string, method = 'GET', body?: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method, ca, headers: body ? { 'content-type': 'application/json' } : {} }, (res) => {
      let data = '';
      res.on('data', (c: Buffer) => (data += c.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: data }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

describe('npm run emulator', () => {
  it('prints the exports, serves state and log, takes faults, stops on SIGTERM', async () => {
    const child = spawn(process.execPath, [new URL('../../emulator/cli.ts', import.meta.url).pathname, '--port', '0', '--update-seconds', '1'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    await new Promise<void>((resolve, reject) => {
      child.stdout.on('data', (d: Buffer) => {
        out += d.toString();
        if (out.includes('Ctrl-C stops it.')) resolve();
      });
      child.on('exit', (code) => reject(new Error(`exited ${code}: ${out}`)));
    });
    const env = Object.fromEntries([...out.matchAll(/^export (\w+)='([^']*)'$/gm)].map((m) => [m[1], m[2]]));
    for (const name of ['ACTIONS_ID_TOKEN_REQUEST_URL', 'ACTIONS_ID_TOKEN_REQUEST_TOKEN', 'NODE_EXTRA_CA_CERTS', 'HTTPS_PROXY', 'NO_PROXY', 'AZURE_CLIENT_ID', 'AZURE_TENANT_ID', 'AZURE_SUBSCRIPTION_ID']) {
      assert.ok(env[name], `exports ${name}`);
    }
    for (const name of ['AZURE_AUTHORITY_HOST', 'AZURE_RESOURCE_MANAGER_ENDPOINT']) assert.equal(env[name], undefined, `no longer exports ${name}: the action takes endpoints from inputs only`);
    assert.match(env['HTTPS_PROXY'] ?? '', /^http:\/\/127\.0\.0\.1:\d+$/, 'the proxy listens on loopback only');
    const origin = /listening on (https:\/\/127\.0\.0\.1:\d+) /.exec(out)?.[1] ?? '';
    assert.match(origin, /^https:\/\/127\.0\.0\.1:\d+$/, 'loopback only');
    const ca = readFileSync(env['NODE_EXTRA_CA_CERTS'] ?? '', 'utf8');
    const state = JSON.parse((await get(`${origin}/_emulator/state`, ca)).body) as { scaleSets: { name: string }[] };
    assert.ok(state.scaleSets.some((s) => s.name === 'vmss-web'));
    assert.equal((await get(`${origin}/_emulator/faults`, ca, 'POST', JSON.stringify({ route: 'github.token', action: { kind: 'status', status: 503 } }))).status, 201);
    const token = await get(`${env['ACTIONS_ID_TOKEN_REQUEST_URL']}&audience=x`, ca);
    assert.equal(token.status, 503, 'the fault fired');
    const log = JSON.parse((await get(`${origin}/_emulator/log`, ca)).body) as { route: string; status: number }[];
    assert.deepEqual(log.map((e) => [e.route, e.status]), [['github.token', 503]]);
    child.kill('SIGTERM');
    const code = await new Promise((resolve) => child.on('exit', resolve));
    assert.equal(code, 0);
  });
});
