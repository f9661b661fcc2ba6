import { maskIdentifier } from '../../src/logs/mask';

describe('maskIdentifier', () => {
  it('keeps ip and username identifiers readable', () => {
    expect(maskIdentifier('ip', '203.0.113.7')).toBe('203.0.113.7');
    expect(maskIdentifier('username', 'alice')).toBe('alice');
  });

  it('logs only a four-character prefix of credential-like identifiers', () => {
    expect(maskIdentifier('token', 'eyJhbGciOiJIUzI1NiJ9')).toBe('eyJh****');
    expect(maskIdentifier('api_key', 'k-123456')).toBe('k-12****');
    expect(maskIdentifier('cookie', 'sessionid-abc')).toBe('sess****');
  });

  it('hides short credentials completely', () => {
    expect(maskIdentifier('token', 'abcd')).toBe('****');
    expect(maskIdentifier('api_key', '')).toBe('****');
  });
});
