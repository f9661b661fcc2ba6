import { AllowedHosts, defaultAllowedHosts, normalizeHostEntry } from '../src/allowed-hosts';

describe('AllowedHosts', () => {
  const hosts = new AllowedHosts(['localhost', '127.0.0.1', '::1', 'Admin.Example.']);

  test.each(['localhost', 'localhost:8010', 'LOCALHOST.', '127.0.0.1:1', '[::1]', '[0:0::1]:8010', 'admin.example', 'admin.example.:80'])('answers to %s', (h) => {
    expect(hosts.allows([h])).toBe(true);
  });

  test.each(['evil.example', 'localhost.evil.example', 'admin.example.evil', '127.0.0.1.nip.io', '127.1', '::1', '[::2]', 'localhost@evil.example', 'localhost evil', 'localhost,evil', ''])(
    'refuses %j',
    (h) => {
      expect(hosts.allows([h])).toBe(false);
    },
  );

  test('no Host, or two Host lines (even two allowed ones), are refused', () => {
    expect(hosts.allows([])).toBe(false);
    expect(hosts.allows(['localhost', 'evil.example'])).toBe(false);
    expect(hosts.allows(['localhost', 'localhost'])).toBe(false);
  });

  test('"*" allows any Host', () => {
    expect(new AllowedHosts(['*']).allows(['evil.example'])).toBe(true);
  });

  test('entries with a port or that are not hosts are refused when the list is made', () => {
    expect(() => new AllowedHosts(['admin.example:8010'])).toThrow('allowedHosts: "admin.example:8010" is not a host name or IP address');
    expect(() => new AllowedHosts(['[::1]:80'])).toThrow(TypeError);
    expect(() => new AllowedHosts(['a@b'])).toThrow(TypeError);
    expect(normalizeHostEntry('[::1]')).toBe('[::1]');
    expect(normalizeHostEntry('0:0::1')).toBe('[::1]');
  });
});

describe('defaultAllowedHosts', () => {
  test('localhost, the loopback addresses, the bound address and the configured names', () => {
    expect(defaultAllowedHosts('10.0.0.5', ['admin.example'])).toEqual(['localhost', '127.0.0.1', '::1', '10.0.0.5', 'admin.example']);
  });

  test('bound to every interface: every interface address', () => {
    const list = defaultAllowedHosts('0.0.0.0', []);
    expect(list).toEqual(expect.arrayContaining(['localhost', '127.0.0.1', '::1']));
    expect(list).not.toContain('0.0.0.0');
    expect(new AllowedHosts(list).allows(['127.0.0.1:8010'])).toBe(true);
  });
});
