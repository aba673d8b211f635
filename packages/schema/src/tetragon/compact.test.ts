import assert from 'node:assert/strict';
import { test } from 'node:test';
import { compactLine } from './compact';

const process = { binary: '/usr/bin/curl', arguments: 'https://ebpf.io/applications/#tetragon' };
const pod = { namespace: 'default', name: 'xwing' };

test('an exec is a rocket with the pod, the binary and its arguments', () => {
  const line = compactLine({ process_exec: { process: { ...process, pod } } });
  assert.equal(
    line,
    '🚀 process default/xwing /usr/bin/curl https://ebpf.io/applications/#tetragon',
  );
});

test('an exit pads its verb to seven columns and ends with the status or the signal', () => {
  const exit = { process_exit: { process: { ...process, pod }, status: 60 } };
  assert.equal(
    compactLine(exit),
    '💥 exit    default/xwing /usr/bin/curl https://ebpf.io/applications/#tetragon 60',
  );
  const killed = { node_name: 'n1', process_exit: { process, signal: 'SIGKILL' } };
  assert.match(compactLine(killed), /^💥 exit {4}n1 \/usr\/bin\/curl .* SIGKILL$/);
});

test('a tcp_connect kprobe shows the 4-tuple', () => {
  const event = {
    node_name: 'n1',
    process_kprobe: {
      process,
      function_name: 'tcp_connect',
      args: [
        {
          sock_arg: {
            family: 'AF_INET',
            protocol: 'IPPROTO_TCP',
            saddr: '10.32.0.19',
            sport: 33978,
            daddr: '104.198.14.52',
            dport: 443,
          },
        },
      ],
    },
  };
  assert.equal(
    compactLine(event),
    '🔌 connect n1 /usr/bin/curl tcp 10.32.0.19:33978 -> 104.198.14.52:443',
  );
});

test('attacker-controlled text is escaped for the terminal', () => {
  const event = { node_name: 'n\u001b[2J', process_exec: { process: { binary: '/x\u0007' } } };
  assert.equal(compactLine(event), '🚀 process n\\x1b[2J /x\\x07');
});

test('a value that is not an event becomes a line that says why', () => {
  assert.match(compactLine({ nothing: 1 }), /^❓ unknown not a Tetragon event/);
});
