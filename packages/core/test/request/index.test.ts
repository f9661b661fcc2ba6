import * as request from '../../src/request';

describe('request module public surface', () => {
  it('exports exactly these names', () => {
    expect(Object.keys(request).sort()).toEqual(
      [
        'MAX_COOKIES',
        'MAX_COOKIE_HEADER',
        'TrustedProxies',
        'XFF_MAX_CHARS',
        'XFF_MAX_ENTRIES',
        'canonicalIp',
        'decodeFormComponent',
        'getQueryParam',
        'isIpOrCidr',
        'normalizeTarget',
        'parseCookies',
        'parseHost',
        'resolveClientIp',
        'toMatchPath',
      ].sort(),
    );
  });
});
