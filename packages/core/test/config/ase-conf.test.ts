import { ASE_CONF_KEYS, REFERENCE_ONLY_KEYS, normaliseAseConf, parseAseConf } from '../../src/config/ase-conf';
import { ASE_CONF_DEFAULTS } from '../../src/config/defaults';
import { formatConfigProblem } from '../../src/errors';
import { deepFreeze, problemsOf } from './helpers';

const FILE = 'config/ase.conf';
const parse = (text: string) => parseAseConf(text, FILE);

describe('ase.conf format', () => {
  it('an empty file gives every default and no warning', () => {
    expect(parse('')).toEqual({ conf: ASE_CONF_DEFAULTS, warnings: [] });
  });

  it('reads key=value lines, skips ; and # comments and blank lines, trims around key and value', () => {
    const { conf } = parse(['; a comment', '# another', '', '   http_ws_port  =  9000  ', '\tenable_xff=true', '  ; indented comment'].join('\n'));
    expect(conf.http_ws_port).toBe(9000);
    expect(conf.enable_xff).toBe(true);
  });

  it('strips an inline " ;comment" after whitespace', () => {
    const { conf } = parse('management_port=9010 ; admin port\nserver_ca_cert_path=/etc/ca;file.pem');
    expect(conf.management_port).toBe(9010);
    // a ';' that does not follow whitespace is part of the value
    expect(conf.server_ca_cert_path).toBe('/etc/ca;file.pem');
  });

  it('accepts CRLF line endings and a UTF-8 byte order mark', () => {
    const { conf } = parse('\ufeffhttp_ws_port=9000\r\nenable_audit=false\r\n');
    expect(conf.http_ws_port).toBe(9000);
    expect(conf.enable_audit).toBe(false);
  });

  it('metrics_auth: true unless the file says false', () => {
    expect(parse('').conf.metrics_auth).toBe(true);
    expect(parse('metrics_auth=FALSE').conf.metrics_auth).toBe(false);
  });

  it('a value may contain "=" (everything after the first "=" is the value)', () => {
    const { conf } = parse('redis_url=redis://h:6379/0?x=1');
    expect(conf.redis_url).toBe('redis://h:6379/0?x=1');
  });

  it('the cluster keys: heartbeat as a duration, the failure modes in any case', () => {
    const { conf } = parse('cluster_heartbeat=2s\ncluster_counters_on_failure=Closed\ncluster_quotas_on_failure=open');
    expect([conf.cluster_heartbeat, conf.cluster_counters_on_failure, conf.cluster_quotas_on_failure]).toEqual([2000, 'closed', 'open']);
    expect([ASE_CONF_DEFAULTS.cluster_heartbeat, ASE_CONF_DEFAULTS.cluster_counters_on_failure, ASE_CONF_DEFAULTS.cluster_quotas_on_failure]).toEqual([5000, 'open', 'open']);
  });

  it('honeytokens_max: 10 000 honeytokens by default; a smaller bound is read as a whole number', () => {
    expect(ASE_CONF_DEFAULTS.honeytokens_max).toBe(10_000);
    expect(parse('honeytokens_max=3').conf.honeytokens_max).toBe(3);
  });

  it('the cluster start keys: Redis unreachable at start refuses by default; dead nodes forgotten after an hour by default', () => {
    const { conf } = parse('cluster_start_on_failure=Open\ncluster_forget_after=10m');
    expect([conf.cluster_start_on_failure, conf.cluster_forget_after]).toEqual(['open', 600_000]);
    expect([ASE_CONF_DEFAULTS.cluster_start_on_failure, ASE_CONF_DEFAULTS.cluster_forget_after]).toEqual(['closed', 3_600_000]);
  });

  it('keys left out keep their defaults', () => {
    const { conf } = parse('http_ws_port=9000');
    expect(conf).toEqual({ ...ASE_CONF_DEFAULTS, http_ws_port: 9000 });
  });

  it('the result does not share the defaults\' trusted proxy list', () => {
    const { conf } = parse('');
    conf.xff_trusted_proxies.push('10.0.0.1');
    expect(ASE_CONF_DEFAULTS.xff_trusted_proxies).toEqual(['127.0.0.0/8', '::1/128']);
  });
});

describe('every key we read is converted to its type', () => {
  it('a full file', () => {
    const text = [
      'http_ws_port=80',
      'http_ws_bind=127.0.0.1',
      'https_wss_port=443',
      'management_port=8010',
      'management_bind=::1',
      'management_allowed_hosts=Admin.Example., 10.0.0.5 ,::1',
      'metrics_auth=false',
      'enable_firewall=FALSE',
      'enable_ase_detected_attack=True',
      'enable_xff=true',
      'xff_trusted_proxies=10.0.0.0/8, 192.168.1.1 ,::1, fd00::/8',
      'enable_audit=false',
      'enable_access_log=false',
      'admin_log_level=5',
      'attack_list_memory=256MB',
      'attack_list_shares= 40, 25 ,35',
      'deny_list_ttl=invalid_method:10m, decoy:never , missing_token:2d',
      'ip_rotation_threshold=5',
      'ip_rotation_window=1h',
      'ipv6_client_prefix=56',
      'tracked_clients_max=5000',
      'honeytokens_max=250',
      'enable_strict_request_parser=false',
      'enable_ase_health=true',
      'pass_unmatched_hosts=true',
      'server_ca_cert_path=/etc/ase/ca.pem',
      'enable_cluster=true',
      'cluster_id=prod.eu-1/a_b',
      'redis_url=rediss://user:pw@redis.example:6380/2',
      'cluster_heartbeat=1s',
      'cluster_counters_on_failure=closed',
      'cluster_quotas_on_failure=closed',
      'cluster_start_on_failure=open',
      'cluster_forget_after=2h',
      'queue_max_size=0',
      'queue_max_wait=30s',
      'backend_timeout=2m',
      'server_down_time=1500',
    ].join('\n');
    const { conf, warnings } = parse(text);
    expect(conf).toEqual({
      http_ws_port: 80,
      http_ws_bind: '127.0.0.1',
      https_wss_port: 443,
      management_port: 8010,
      management_bind: '::1',
      management_allowed_hosts: ['admin.example', '10.0.0.5', '[::1]'],
      metrics_auth: false,
      enable_firewall: false,
      enable_ase_detected_attack: true,
      enable_xff: true,
      xff_trusted_proxies: ['10.0.0.0/8', '192.168.1.1', '::1', 'fd00::/8'],
      enable_audit: false,
      enable_access_log: false,
      admin_log_level: 5,
      attack_list_memory: 256 * 1024 * 1024,
      attack_list_shares: { manual: 40, decoy: 25, automatic: 35 },
      deny_list_ttl: { invalid_method: 600_000, invalid_content_type: 3_600_000, invalid_protocol: 3_600_000, missing_token: 172_800_000, decoy: 0, honeytoken: 2_592_000_000 },
      ip_rotation_threshold: 5,
      ip_rotation_window: 3_600_000,
      ipv6_client_prefix: 56,
      tracked_clients_max: 5000,
      honeytokens_max: 250,
      enable_strict_request_parser: false,
      enable_ase_health: true,
      pass_unmatched_hosts: true,
      server_ca_cert_path: '/etc/ase/ca.pem',
      enable_cluster: true,
      cluster_id: 'prod.eu-1/a_b',
      redis_url: 'rediss://user:pw@redis.example:6380/2',
      cluster_heartbeat: 1000,
      cluster_counters_on_failure: 'closed',
      cluster_quotas_on_failure: 'closed',
      cluster_start_on_failure: 'open',
      cluster_forget_after: 7_200_000,
      queue_max_size: 0,
      queue_max_wait: 30_000,
      backend_timeout: 120_000,
      server_down_time: 1500,
    });
    expect(warnings).toEqual([]);
  });

  it('deny_list_ttl refuses unknown forms and lifetimes beyond ten years', () => {
    for (const bad of ['invalid_method', 'invalid_method:soon', 'Invalid-Method:1h', 'decoy:11yr']) {
      expect(() => parse(`deny_list_ttl=${bad}`)).toThrow(/deny_list_ttl: must be tag:duration pairs/);
    }
  });

  it('an empty xff_trusted_proxies means no trusted proxy', () => {
    expect(parse('xff_trusted_proxies=').conf.xff_trusted_proxies).toEqual([]);
  });

  it('management_allowed_hosts is empty by default; "*" is kept as is', () => {
    expect(parse('').conf.management_allowed_hosts).toEqual([]);
    expect(parse('management_allowed_hosts=*').conf.management_allowed_hosts).toEqual(['*']);
  });

  it('http_ws_bind is "*" (every interface) by default and accepts an IP address or localhost', () => {
    expect(parse('').conf.http_ws_bind).toBe('*');
    expect(parse('http_ws_bind=::').conf.http_ws_bind).toBe('::');
    expect(parse('http_ws_bind=localhost').conf.http_ws_bind).toBe('localhost');
  });

  it('management_bind accepts localhost', () => {
    expect(parse('management_bind=localhost').conf.management_bind).toBe('localhost');
  });
});

describe('a bad value names the file, the line and key, the value and the accepted form', () => {
  it.each([
    ['http_ws_port=0', 'http_ws_port', '0', 'a port number from 1 to 65535'],
    ['https_wss_port=65536', 'https_wss_port', '65536', 'from 1 to 65535'],
    ['management_port=80a', 'management_port', '80a', 'from 1 to 65535'],
    ['management_bind=example.com', 'management_bind', 'example.com', 'an IP address'],
    ['http_ws_bind=example.com', 'http_ws_bind', 'example.com', 'an IP address'],
    ['management_allowed_hosts=admin.example:8010', 'management_allowed_hosts', 'admin.example:8010', 'host names or IP addresses without a port'],
    ['management_allowed_hosts=a@evil.example', 'management_allowed_hosts', 'a@evil.example', 'host names or IP addresses without a port'],
    ['management_allowed_hosts=[::1]:8010', 'management_allowed_hosts', '[::1]:8010', 'host names or IP addresses without a port'],
    ['enable_firewall=yes', 'enable_firewall', 'yes', 'true or false'],
    ['enable_xff=1', 'enable_xff', '1', 'true or false'],
    ['metrics_auth=off', 'metrics_auth', 'off', 'true or false'],
    ['xff_trusted_proxies=10.0.0.0/33', 'xff_trusted_proxies', '10.0.0.0/33', 'IP addresses or CIDR ranges'],
    ['xff_trusted_proxies=1.2.3.4,,5.6.7.8', 'xff_trusted_proxies', '1.2.3.4,,5.6.7.8', 'IP addresses or CIDR ranges'],
    ['xff_trusted_proxies=::1/129', 'xff_trusted_proxies', '::1/129', 'IP addresses or CIDR ranges'],
    ['xff_trusted_proxies=proxy.local', 'xff_trusted_proxies', 'proxy.local', 'IP addresses or CIDR ranges'],
    ['admin_log_level=6', 'admin_log_level', '6', 'from 1 to 5'],
    ['admin_log_level=info', 'admin_log_level', 'info', 'from 1 to 5'],
    ['attack_list_memory=128', 'attack_list_memory', '128', 'a size like'],
    ['attack_list_memory=0MB', 'attack_list_memory', '0MB', 'more than 0'],
    ['attack_list_shares=50,30,30', 'attack_list_shares', '50,30,30', 'add up to 100'],
    ['attack_list_shares=100,0,0', 'attack_list_shares', '100,0,0', 'add up to 100'],
    ['attack_list_shares=50,50', 'attack_list_shares', '50,50', 'add up to 100'],
    ['ipv6_client_prefix=129', 'ipv6_client_prefix', '129', 'prefix length from 1 to 128'],
    ['ip_rotation_threshold=101', 'ip_rotation_threshold', '101', 'from 0 (off) to 100'],
    ['tracked_clients_max=0', 'tracked_clients_max', '0', 'a whole number from 1 to 10000000'],
    ['tracked_clients_max=lots', 'tracked_clients_max', 'lots', 'a whole number from 1 to 10000000'],
    ['honeytokens_max=0', 'honeytokens_max', '0', 'a whole number from 1 to 1000000'],
    ['honeytokens_max=-5', 'honeytokens_max', '-5', 'a whole number from 1 to 1000000'],
    ['honeytokens_max=2.5', 'honeytokens_max', '2.5', 'a whole number from 1 to 1000000'],
    ['honeytokens_max=1000001', 'honeytokens_max', '1000001', 'a whole number from 1 to 1000000'],
    ['cluster_id=my cluster', 'cluster_id', 'my cluster', 'letters, digits, "_", "-", "." and "/"'],
    ['cluster_id=', 'cluster_id', '', '1 to 128 characters'],
    ['redis_url=http://localhost:6379', 'redis_url', 'http://localhost:6379', 'a Redis URL'],
    ['redis_url=redis://', 'redis_url', 'redis://', 'a Redis URL'],
    ['cluster_heartbeat=50', 'cluster_heartbeat', '50', 'from 100 ms'],
    ['cluster_heartbeat=often', 'cluster_heartbeat', 'often', 'a duration like'],
    ['cluster_counters_on_failure=deny', 'cluster_counters_on_failure', 'deny', '"open" or "closed"'],
    ['cluster_quotas_on_failure=', 'cluster_quotas_on_failure', '', '"open" or "closed"'],
    ['cluster_start_on_failure=wait', 'cluster_start_on_failure', 'wait', '"closed" or "open"'],
    ['cluster_forget_after=500', 'cluster_forget_after', '500', 'from 1 s'],
    ['cluster_forget_after=never', 'cluster_forget_after', 'never', 'a duration like'],
    ['queue_max_size=-1', 'queue_max_size', '-1', 'a whole number'],
    ['queue_max_wait=10 s', 'queue_max_wait', '10 s', 'a duration like'],
    ['backend_timeout=0', 'backend_timeout', '0', 'from 1 ms'],
    ['backend_timeout=1yr', 'backend_timeout', '1yr', '24 days'],
    ['server_down_time=soon', 'server_down_time', 'soon', 'a duration like'],
  ])('%s', (line, key, value, accepted) => {
    const problems = problemsOf(() => parse(`; header\n${line}`));
    expect(problems).toHaveLength(1);
    const p = problems[0]!;
    expect(p.file).toBe(FILE);
    expect(p.path).toBe(`line 2: ${key}`);
    expect(p.value).toBe(value);
    expect(p.message).toContain(accepted);
    expect(formatConfigProblem(p)).toBe(`${FILE}: line 2: ${key}: ${p.message} (got ${JSON.stringify(value)})`);
  });

  it('two listeners on the same port are refused', () => {
    const problems = problemsOf(() => parse('http_ws_port=8010'));
    expect(problems.map((p) => [p.path, p.message])).toEqual([['line 1: http_ws_port', 'must differ from http_ws_port; each port is its own listener']]);
  });
});

describe('unknown, reference-only, malformed and duplicate lines', () => {
  it('an unknown key is an error naming the key and its line, with the closest known key', () => {
    const problems = problemsOf(() => parse('enable_xff=true\nhttp_port=80'));
    expect(problems).toHaveLength(1);
    expect(problems[0]!.path).toBe('line 2: http_port');
    expect(problems[0]!.message).toMatch(/^unknown key `http_port`; did you mean `http_ws_port`\? Known keys: http_ws_port, /);
  });

  it('an unknown key with nothing close lists the known keys', () => {
    const [p] = problemsOf(() => parse('zzzzzzzz=1'));
    expect(p!.message).toBe(`unknown key \`zzzzzzzz\`; known keys: ${ASE_CONF_KEYS.join(', ')}`);
  });

  it('keys of the reference product we do not implement are accepted with one warning naming them and their lines', () => {
    const { conf, warnings } = parse('mode=inline\nhttp_ws_port=9000\nenable_abs=true\ntimezone=utc\nenable_1G=true');
    expect(conf.http_ws_port).toBe(9000);
    expect(warnings).toEqual([
      `${FILE}: ignoring keys of the reference product that ASE for Node.js does not implement: mode (line 1), enable_abs (line 3), timezone (line 4), enable_1G (line 5)`,
    ]);
  });

  it('every listed reference key is accepted', () => {
    const { warnings } = parse(REFERENCE_ONLY_KEYS.map((k) => `${k}=x`).join('\n'));
    expect(warnings).toHaveLength(1);
    for (const k of REFERENCE_ONLY_KEYS) expect(warnings[0]).toContain(` ${k} (line `);
  });

  it('a line without "=" is a problem with its line number', () => {
    const [p] = problemsOf(() => parse('\n\nenable_xff true'));
    expect(p).toMatchObject({ file: FILE, path: 'line 3', value: 'enable_xff true' });
    expect(p!.message).toContain('key=value');
  });

  it('a line with no key before "=" is a problem', () => {
    const [p] = problemsOf(() => parse('=true'));
    expect(p!.path).toBe('line 1');
  });

  it('a duplicate key is a problem naming both lines', () => {
    const [p] = problemsOf(() => parse('enable_xff=true\n\nenable_xff=false'));
    expect(p!.path).toBe('line 3: enable_xff');
    expect(p!.message).toBe('duplicate key `enable_xff` (first set on line 1)');
  });

  it('all problems of the file come in one error, in line order', () => {
    const problems = problemsOf(() => parse('http_port=80\nenable_xff=maybe\nno equals here\nhttp_port=81\nadmin_log_level=9'));
    expect(problems.map((p) => p.path)).toEqual(['line 1: http_port', 'line 2: enable_xff', 'line 3', 'line 4: http_port', 'line 5: admin_log_level']);
  });
});

describe('ase.conf warnings', () => {
  it('a management_bind beyond loopback is warned about', () => {
    const { warnings } = parse('management_bind=0.0.0.0');
    expect(warnings).toEqual([`${FILE}: management_bind=0.0.0.0 exposes the management API beyond this host; keep the management port private`]);
  });

  it('enable_cluster without redis_url is warned about', () => {
    const { warnings } = parse('enable_cluster=true');
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toContain('redis_url');
  });
});

describe('normaliseAseConf (settings passed in code)', () => {
  it('accepts typed values', () => {
    const conf = normaliseAseConf({
      http_ws_port: 3000,
      enable_xff: true,
      xff_trusted_proxies: ['10.0.0.0/8'],
      attack_list_memory: 1024,
      queue_max_wait: 500,
      admin_log_level: 2,
    });
    expect(conf).toEqual({ ...ASE_CONF_DEFAULTS, http_ws_port: 3000, enable_xff: true, xff_trusted_proxies: ['10.0.0.0/8'], attack_list_memory: 1024, queue_max_wait: 500, admin_log_level: 2 });
  });

  it('accepts strings as written in the file', () => {
    const conf = normaliseAseConf({ http_ws_port: '3000', enable_xff: 'TRUE', xff_trusted_proxies: '10.0.0.1, ::1', attack_list_memory: '1mb', backend_timeout: '5s' });
    expect(conf).toMatchObject({ http_ws_port: 3000, enable_xff: true, xff_trusted_proxies: ['10.0.0.1', '::1'], attack_list_memory: 1024 * 1024, backend_timeout: 5000 });
  });

  it('round-trips the defaults and treats undefined as "not set"', () => {
    expect(normaliseAseConf(ASE_CONF_DEFAULTS)).toEqual(ASE_CONF_DEFAULTS);
    expect(normaliseAseConf({ http_ws_port: undefined })).toEqual(ASE_CONF_DEFAULTS);
    expect(normaliseAseConf({})).toEqual(ASE_CONF_DEFAULTS);
  });

  it('does not modify its input', () => {
    const input = deepFreeze({ xff_trusted_proxies: ['10.0.0.1'], http_ws_port: 1 });
    const conf = normaliseAseConf(input);
    expect(conf.xff_trusted_proxies).not.toBe(input.xff_trusted_proxies);
  });

  it('names the source and each bad key, all in one error', () => {
    const problems = problemsOf(() =>
      normaliseAseConf({ http_ws_port: 70000, enable_xff: 'nope', xff_trusted_proxies: ['x'], attack_list_memory: -1 }, 'options'),
    );
    expect(problems.map((p) => [p.file, p.path, p.value])).toEqual([
      ['options', 'http_ws_port', 70000],
      ['options', 'enable_xff', 'nope'],
      ['options', 'attack_list_memory', -1],
      ['options', 'xff_trusted_proxies', ['x']],
    ]);
    expect(problems[0]!.file).toBe('options');
  });

  it('a wrong type is refused (a fractional port, a number for a boolean)', () => {
    const problems = problemsOf(() => normaliseAseConf({ http_ws_port: 80.5, enable_audit: 1 }));
    expect(problems.map((p) => [p.file, p.path])).toEqual([
      ['<code>', 'http_ws_port'],
      ['<code>', 'enable_audit'],
    ]);
  });

  it('an unknown key is an error; a __proto__ key is refused', () => {
    const unknown = problemsOf(() => normaliseAseConf({ http_port: 80 } as never));
    expect(unknown[0]!.message).toContain('did you mean `http_ws_port`?');
    const proto = problemsOf(() => normaliseAseConf(JSON.parse('{"__proto__": {"enable_firewall": false}}')));
    expect(proto[0]!.path).toBe('__proto__');
  });
});

// Found by the generated tests (test/fuzz/): the exact inputs.
describe('hostile ase.conf files', () => {
  it('20 000 unknown keys: refused quickly with 50 problems and one line counting the rest', () => {
    const text = Array.from({ length: 20_000 }, (_, i) => `key${i}=1`).join('\n');
    const started = Date.now();
    const problems = problemsOf(() => parse(text));
    expect(Date.now() - started).toBeLessThan(1_000);
    expect(problems).toHaveLength(51);
    expect(problems[50]).toEqual({ file: FILE, path: '', message: '19950 more problems not listed' });
  });

  it('server_ca_cert_path with a control character is refused here, not by the file system at start', () => {
    const [p] = problemsOf(() => parse('server_ca_cert_path=/etc/ca\u0000.pem'));
    expect(p).toMatchObject({ path: 'line 1: server_ca_cert_path', message: 'must be a file path without control characters, or ""' });
  });

  it('a comma-separated list has the same entry bound as the list form from code', () => {
    const [p] = problemsOf(() => parse(`management_allowed_hosts=${Array(5_000).fill('a').join(',')}`));
    expect(p!.message).toMatch(/^has 5000 entries \(at most 256\); it must be/);
    expect(() => normaliseAseConf({ management_allowed_hosts: Array(5_000).fill('a') })).toThrow(/management_allowed_hosts: has too many entries/);
  });

  it('a 1 MB key is cut in the message', () => {
    const [p] = problemsOf(() => parse(`${'x'.repeat(1_000_000)}=1`));
    expect(formatConfigProblem(p!).length).toBeLessThan(2_000);
  });
});
