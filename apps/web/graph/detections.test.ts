import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { Detection } from '@proctrail/schema';
import { detectionsByExecId, detectionsTooltip, newestFirst, worstSeverity } from './detections';

function detection(id: number, extra: Partial<Detection> = {}): Detection {
  return {
    id,
    rule: 'shell-under-server-runtime',
    severity: 'high',
    title: 'Shell started by a server runtime',
    time: '2024-05-01T10:00:00.000000000Z',
    source: 'test',
    execId: 'sh',
    ancestors: [],
    evidenceEventIds: [id],
    explanation: 'sh started by node.',
    ...extra,
  };
}

describe('detections for drawing', () => {
  test('newest first by time, then by id', () => {
    const list = [
      detection(1, { time: '2024-05-01T10:00:00Z' }),
      detection(2, { time: '2024-05-01T11:00:00Z' }),
      detection(3, { time: '2024-05-01T10:00:00Z' }),
    ];
    assert.deepEqual(
      newestFirst(list).map((d) => d.id),
      [2, 3, 1],
    );
    assert.deepEqual(
      list.map((d) => d.id),
      [1, 2, 3],
      'the input is left as it was',
    );
  });

  test('grouped by exec_id, each detection once', () => {
    const grouped = detectionsByExecId([
      detection(1, { execId: 'a' }),
      detection(2, { execId: 'b' }),
      detection(1, { execId: 'a' }),
      detection(3, { execId: 'a', time: '2024-05-01T12:00:00Z' }),
    ]);
    assert.deepEqual(
      grouped.get('a')!.map((d) => d.id),
      [3, 1],
    );
    assert.deepEqual(
      grouped.get('b')!.map((d) => d.id),
      [2],
    );
    assert.equal(grouped.get('c'), undefined);
  });

  test('the worst severity colours the marker; the tooltip names every title as text', () => {
    assert.equal(worstSeverity([]), undefined);
    const list = [
      detection(1, { severity: 'medium' }),
      detection(2, { severity: 'critical', title: '<b>Reverse shell</b>' }),
      detection(3, { severity: 'low' }),
    ];
    assert.equal(worstSeverity(list), 'critical');
    assert.equal(
      detectionsTooltip(list.slice(0, 2)),
      'medium: Shell started by a server runtime\ncritical: <b>Reverse shell</b>',
    );
  });
});
