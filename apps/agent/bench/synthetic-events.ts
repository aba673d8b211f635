import { execIdFor } from '@proctrail/schema';

/**
 * Synthetic Tetragon events for benchmarks, shaped like a busy host's export: each process is
 * an exec, a few kprobe events (a connect, a file read) and an exit, under a parent that is
 * itself a recent process, with parent objects embedded as Tetragon embeds them. Deterministic:
 * the same count gives the same lines.
 */
export function* syntheticEventLines(count: number, nodeName = 'bench-node'): Generator<string> {
  const bootNs = 1_000_000_000n;
  const baseMs = Date.parse('2026-01-01T00:00:00Z');
  let emitted = 0;
  let pid = 1000;
  const recent: Array<{ process: Record<string, unknown> }> = [];

  while (emitted < count) {
    pid++;
    const ktime = bootNs + BigInt(pid) * 1_000_000n;
    const time = new Date(baseMs + pid).toISOString().replace('Z', '123456Z');
    const parent = recent.length ? recent[pid % recent.length]!.process : undefined;
    const process = {
      exec_id: execIdFor(nodeName, ktime, pid),
      pid,
      uid: 1000,
      cwd: '/srv/app',
      binary: pid % 7 === 0 ? '/usr/bin/curl' : '/usr/bin/python3',
      arguments: `worker.py --job ${pid} --queue q${pid % 13}`,
      flags: 'execve clone',
      start_time: time,
      auid: 1000,
      parent_exec_id: parent?.exec_id ?? execIdFor(nodeName, bootNs, 1),
      tid: pid,
    };
    const envelope = (kind: string, body: object, at: string) =>
      JSON.stringify({
        [kind]: { process, ...(parent ? { parent } : {}), ...body },
        node_name: nodeName,
        time: at,
      });

    const lines = [
      envelope('process_exec', {}, time),
      envelope(
        'process_kprobe',
        {
          function_name: 'tcp_connect',
          args: [
            {
              sock_arg: {
                family: 'AF_INET',
                type: 'SOCK_STREAM',
                protocol: 'IPPROTO_TCP',
                saddr: '10.0.0.5',
                daddr: `10.1.${pid % 250}.${pid % 200}`,
                sport: 30000 + (pid % 30000),
                dport: 443,
                cookie: String(18446613061298568960n + BigInt(pid)),
                state: 'TCP_SYN_SENT',
              },
            },
          ],
          action: 'KPROBE_ACTION_POST',
          policy_name: 'connect',
        },
        time,
      ),
      envelope(
        'process_kprobe',
        {
          function_name: '__x64_sys_read',
          args: [{ file_arg: { path: `/srv/app/data/${pid % 100}.json` } }, { size_arg: '4096' }],
          return: { int_arg: 4096 },
          action: 'KPROBE_ACTION_POST',
          policy_name: 'files',
        },
        time,
      ),
      envelope('process_exit', { status: pid % 3 }, time),
    ];
    for (const line of lines) {
      if (emitted++ >= count) return;
      yield line;
    }
    recent.push({ process });
    if (recent.length > 50) recent.shift();
  }
}
