import { memberValues } from '../../src/identity/json-members';
import { decodeJwtPayload, repeatedClaimValues } from '../../src/identity/jwt';

const jwt = (payload: string): string => `${Buffer.from('{"alg":"none"}').toString('base64url')}.${Buffer.from(payload).toString('base64url')}.`;

describe('memberValues: every top-level member of a name', () => {
  it('keeps duplicates in order, unescapes names, skips nested members', () => {
    expect(memberValues('{"sub":"a","x":{"sub":"n"},"s\\u0075b":"b", "sub" : ["c", "d"]}', 'sub')).toEqual(['a', 'b', ['c', 'd']]);
    expect(memberValues('{"a":1,"b":{"c":[1,{"d":"}"}]},"sub":"x"}', 'sub')).toEqual(['x']);
    expect(memberValues(' { } ', 'sub')).toEqual([]);
    expect(memberValues('[1]', 'sub')).toEqual([]);
  });
});

describe('repeatedClaimValues: a JWT claim spelled twice', () => {
  it('gives every string value when the claim is there more than once, the first one JSON.parse drops included', () => {
    const t = jwt('{"sub":"mallory","sub":"alice"}');
    expect(decodeJwtPayload(t)).toEqual({ sub: 'alice' });
    expect(repeatedClaimValues(t, 'sub')).toEqual(['mallory', 'alice']);
    expect(repeatedClaimValues(jwt('{"sub":"alice","s\\u0075b":"mallory"}'), 'sub')).toEqual(['alice', 'mallory']);
    expect(repeatedClaimValues(jwt('{"sub":["mallory","x"],"sub":7}'), 'sub')).toEqual(['mallory', '7']);
  });

  it('gives nothing in the usual case, and never throws', () => {
    expect(repeatedClaimValues(jwt('{"sub":"alice","exp":1}'), 'sub')).toEqual([]);
    expect(repeatedClaimValues(jwt('{"sub":"alice","x":{"sub":"mallory"}}'), 'sub')).toEqual([]);
    expect(repeatedClaimValues(jwt('{"sub":"a\\"sub\\"","n":"\\u0041"}'), 'sub')).toEqual([]);
    expect(repeatedClaimValues('not a jwt', 'sub')).toEqual([]);
    expect(repeatedClaimValues(jwt('{"sub":'), 'sub')).toEqual([]);
    expect(repeatedClaimValues(`a.${'x'.repeat(9000)}.b`, 'sub')).toEqual([]);
  });
});
