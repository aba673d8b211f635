import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { execIdFor, parseTetragonEvent, type TetragonProcess } from '@proctrail/schema';
import ipaddr from 'ipaddr.js';
import picomatch from 'picomatch';
import { cidrTest, compileProcessCondition, compileRule, type RuleInput } from './compile';
import { DetectionEngine } from './engine';
import { ruleSchema, type Rule } from './rule-schema';

const RANGES = ['127.0.0.0/8', '10.0.0.0/8', '172.16.0.0/12', '192.168.0.0/16', '::1', 'fc00::/7'];

/** What the matcher did before its IPv4 fast path: ipaddr for every address. */
function slowCidr(ranges: string[], text: string): boolean {
  if (!ipaddr.isValid(text)) return false;
  let address = ipaddr.parse(text);
  if (address.kind() === 'ipv6' && (address as ipaddr.IPv6).isIPv4MappedAddress()) {
    address = (address as ipaddr.IPv6).toIPv4Address();
  }
  return ranges.some((range) => {
    const [net, bits] = range.includes('/')
      ? ipaddr.parseCIDR(range)
      : [ipaddr.parse(range), range.includes(':') ? 128 : 32];
    return address.kind() === net.kind() && address.match(net, bits);
  });
}

function rule(fields: Record<string, unknown>): Rule {
  return ruleSchema.parse({ name: 'r', title: 'r', severity: 'low', explanation: 'x', ...fields });
}

let nextPid = 100;
function proc(binary: string, fields: Partial<TetragonProcess> = {}): TetragonProcess {
  const pid = nextPid++;
  return { exec_id: execIdFor('n', BigInt(pid), pid), pid, binary, ...fields };
}

describe('rule matchers', () => {
  test('address ranges give the same answers as a full IP parse, IPv4 fast path included', () => {
    const inside = cidrTest(RANGES);
    const addresses = [
      '10.1.2.3',
      '9.255.255.255',
      '11.0.0.0',
      '172.15.255.255',
      '172.16.0.1',
      '172.31.255.255',
      '172.32.0.0',
      '192.168.255.255',
      '127.0.0.1',
      '0.0.0.0',
      '255.255.255.255',
      '64.225.45.153',
      '010.0.0.1',
      '256.1.1.1',
      '1.2.3',
      '::1',
      '::ffff:10.0.0.1',
      '::ffff:8.8.8.8',
      'fd00::5',
      '2001:db8::1',
      'not an address',
    ];
    for (const address of addresses) {
      assert.equal(inside(address), slowCidr(RANGES, address), address);
    }
    assert.equal(cidrTest(['0.0.0.0/0'])('203.0.113.9'), true, 'a /0 range holds every address');
    assert.equal(cidrTest(['203.0.113.9'])('203.0.113.9'), true, 'a bare address is a /32');
    assert.equal(cidrTest(['203.0.113.9'])('203.0.113.8'), false);
  });

  test('binary globs match as picomatch does: full paths with "/", file names without', () => {
    const globs = ['/tmp/**', '/usr/bin/curl', 'python*', 'php[0-9]*', 'nc', '{ba,z}sh'];
    const match = compileProcessCondition({ binary: globs });
    const full = picomatch(
      globs.filter((g) => g.includes('/')),
      { dot: true },
    );
    const name = picomatch(
      globs.filter((g) => !g.includes('/')),
      { dot: true },
    );
    const paths = [
      '/tmp/x',
      '/tmp/.hidden/y',
      '/tmpfoo',
      '/usr/bin/curl',
      '/usr/local/bin/curl',
      '/usr/bin/python3.11',
      '/usr/bin/php8',
      '/usr/bin/php',
      '/bin/nc',
      '/bin/ncat',
      '/bin/bash',
      '/bin/zsh',
      '/bin/sh',
    ];
    for (const path of paths) {
      const expected = full(path) || name(path.slice(path.lastIndexOf('/') + 1));
      assert.equal(match(proc(path)), expected, path);
    }
    assert.equal(match(proc('')), false, 'no binary matches nothing');
  });

  test('an ancestor found for a process is reused for its later events, not looked up again', () => {
    const compiled = compileRule(rule({ on: ['exec'], match: { ancestor: { binary: ['java'] } } }));
    const subject = proc('/bin/sh');
    const java = proc('/usr/bin/java');
    let lookups = 0;
    const input = (): RuleInput => ({
      process: subject,
      ancestors: () => {
        lookups++;
        return [proc('/bin/bash'), java];
      },
    });
    assert.equal(compiled.test(input())?.ancestor, java);
    assert.equal(compiled.test(input())?.ancestor, java);
    assert.equal(lookups, 1);

    const other = compiled.test({ process: proc('/bin/sh'), ancestors: () => [] });
    assert.equal(other, undefined, 'another process walks its own ancestry');
  });

  test('a connect given as a sockaddr argument reaches connect rules; a file read does not', () => {
    const engine = new DetectionEngine([
      rule({ on: ['connect'], match: { network: { direction: ['connect'] } } }),
    ]);
    const process = proc('/usr/bin/curl');
    const event = (args: unknown[]) => {
      const outcome = parseTetragonEvent({
        process_kprobe: { process, function_name: '__x64_sys_connect', args },
        node_name: 'n',
        time: '2024-01-01T00:00:00Z',
      });
      assert.ok(outcome.ok);
      return { eventId: 1, parsed: outcome.parsed, ancestors: () => [] };
    };
    const sockaddr = [{ sockaddr_arg: { family: 'AF_INET', addr: '8.8.8.8', port: 53 } }];
    assert.equal(engine.evaluate(event(sockaddr)).length, 1);
    assert.equal(engine.evaluate(event([{ file_arg: { path: '/etc/hosts' } }])).length, 0);
  });

  test('file events meet the file rules whose paths they could match, and every path meets a rule without one', () => {
    const shadow = rule({
      on: ['file'],
      match: { file: { path: ['/etc/shadow', '/home/*/.ssh/id_*'] } },
    });
    const anyFile = rule({ name: 'any', on: ['file'], match: { process: { binary: ['cat'] } } });
    const read = (path: string, binary = '/usr/bin/python3') => {
      const outcome = parseTetragonEvent({
        process_kprobe: {
          process: proc(binary),
          function_name: 'security_file_open',
          args: [{ file_arg: { path } }],
        },
        node_name: 'n',
        time: '2024-01-01T00:00:00Z',
      });
      assert.ok(outcome.ok);
      return { eventId: 1, parsed: outcome.parsed, ancestors: () => [] };
    };
    const onlyShadow = new DetectionEngine([shadow]);
    assert.equal(onlyShadow.evaluate(read('/etc/shadow')).length, 1);
    assert.equal(onlyShadow.evaluate(read('etc/shadow')).length, 1, 'a path without its "/"');
    assert.equal(onlyShadow.evaluate(read('/home/ann/.ssh/id_ed25519')).length, 1);
    assert.equal(onlyShadow.evaluate(read('/srv/app/data.json')).length, 0);

    const both = new DetectionEngine([shadow, anyFile]);
    const found = both.evaluate(read('/srv/app/data.json', '/usr/bin/cat'));
    assert.deepEqual(
      found.map((f) => f.rule),
      ['any'],
    );
  });
});
