// Name patterns and tag filters: what a fleet query matches.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { matchesName, matchesTags, namePattern } from '../../src/selectors.ts';

describe('selectors', () => {
  it('globs: * any run, ? one character, case-insensitive, anchored', () => {
    const p = [namePattern('aks-*-vmss')];
    assert.ok(matchesName(p, 'aks-nodepool1-12345678-vmss'));
    assert.ok(matchesName(p, 'AKS-System-1-VMSS'));
    assert.ok(!matchesName(p, 'aks-nodepool1-vmss-old'));
    assert.ok(matchesName([namePattern('web-?')], 'web-1'));
    assert.ok(!matchesName([namePattern('web-?')], 'web-10'));
    assert.ok(matchesName([namePattern('*')], 'anything'));
  });

  it('plain names match exactly (any case); regex characters are literal', () => {
    assert.ok(matchesName([namePattern('vmss-web')], 'VMSS-WEB'));
    assert.ok(!matchesName([namePattern('vmss-web')], 'vmss-web2'));
    assert.ok(!matchesName([namePattern('rg.(a)')], 'rgx(a)'));
    assert.ok(matchesName([namePattern('rg.(a)*')], 'rg.(a)-1'));
  });

  it('tags: every filter holds; names case-insensitive, values exact; a bare key means present', () => {
    const tags = { Role: 'web', env: 'Prod' };
    assert.ok(matchesTags([{ key: 'role', value: 'web' }], tags));
    assert.ok(!matchesTags([{ key: 'role', value: 'Web' }], tags));
    assert.ok(matchesTags([{ key: 'ENV' }], tags));
    assert.ok(!matchesTags([{ key: 'role', value: 'web' }, { key: 'owner' }], tags));
    assert.ok(!matchesTags([{ key: 'role' }], undefined));
    assert.ok(matchesTags([], undefined));
  });
});
