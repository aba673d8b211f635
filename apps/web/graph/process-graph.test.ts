import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { ProcessNode, ProcessTree, ProcessTreeNode } from '@proctrail/schema';
import { csvCell, treeToCsv } from './export';
import { networkLabel } from './labels';
import { layoutGraph } from './layout';
import { appendBounded, RateMeter, visibleRange } from './live-window';
import { moveSelection } from './navigation';
import { buildProcessGraph, countGraph, type GraphOptions } from './process-graph';

function proc(execId: string, extra: Partial<ProcessNode> = {}): ProcessNode {
  return {
    exec_id: execId,
    pid: 1,
    binary: `/bin/${execId}`,
    source: 'test',
    placeholder: false,
    relation: 'fork+exec',
    network: [],
    files: [],
    ...extra,
  };
}

function node(execId: string, children: ProcessTreeNode[] = [], extra = {}): ProcessTreeNode {
  return { ...proc(execId, extra), children, omittedChildren: 0 };
}

const options: GraphOptions = {
  showLeaves: true,
  collapsed: new Set(),
  expanded: new Set(),
  childCap: 3,
};

const tree: ProcessTree = {
  ancestors: [proc('init'), proc('java')],
  process: proc('sh', {
    network: [{ type: 'connect', daddr: '10.0.0.1', dport: 443, count: 1 }],
    files: [{ operation: 'read', path: '/etc/passwd', count: 1, bytes: 10 }],
  }),
  children: [node('a'), node('b', [node('b1')]), node('c'), node('d'), node('e')],
  omittedDescendants: 0,
  ancestryTruncated: false,
};

describe('the process graph', () => {
  test('runs from the root through the ancestors to the target', () => {
    const root = buildProcessGraph(tree, options);
    assert.equal(root.id, 'init');
    assert.equal(root.children[0]!.id, 'java');
    const target = root.children[0]!.children[0]!;
    assert.equal(target.role, 'target');
  });

  test('draws network peers with their direction and files with operation and bytes', () => {
    const target = buildProcessGraph(tree, options).children[0]!.children[0]!;
    const labels = target.children.filter((c) => c.kind !== 'process').map((c) => c.label);
    assert.deepEqual(labels.slice(0, 2), ['connect → 10.0.0.1:443', 'read /etc/passwd 10 B']);
  });

  test('labels a close with the peer it had and a listening socket with its own address', () => {
    const edge = { saddr: '127.0.0.1', sport: 39430, count: 1 };
    assert.equal(
      networkLabel({ ...edge, type: 'close', daddr: '127.0.0.1', dport: 4444, bytesSent: 12 }),
      'close 127.0.0.1:4444 (sent 12 B, received 0 B)',
    );
    assert.equal(
      networkLabel({ ...edge, type: 'close', daddr: '::', dport: 0 }),
      'close 127.0.0.1:39430',
    );
    assert.equal(
      networkLabel({ ...edge, type: 'listen', daddr: '::', dport: 0 }),
      'listen 127.0.0.1:39430',
    );
  });

  test('groups children beyond the cap as "+ N more" and never drops them silently', () => {
    const target = buildProcessGraph(tree, options).children[0]!.children[0]!;
    const more = target.children.find((c) => c.kind === 'more');
    assert.equal(more?.label, '+ 2 more');
    const expanded = buildProcessGraph(tree, { ...options, expanded: new Set(['sh']) });
    assert.equal(countGraph(expanded), countGraph(buildProcessGraph(tree, options)) + 1);
  });

  test('counts children the API left out in the "more" node', () => {
    const capped = {
      ...tree,
      children: [node('a', [], {}), { ...node('x'), omittedChildren: 1234 }],
    };
    const graph = buildProcessGraph(capped, options);
    const x = graph.children[0]!.children[0]!.children.find((c) => c.id === 'x')!;
    assert.equal(x.children[0]!.label, '+ 1,234 more');
  });

  test('hides leaves on request and folds collapsed processes with a hidden count', () => {
    const bare = buildProcessGraph(tree, { ...options, showLeaves: false });
    const target = bare.children[0]!.children[0]!;
    assert.ok(target.children.every((c) => c.kind !== 'network' && c.kind !== 'file'));
    const folded = buildProcessGraph(tree, { ...options, collapsed: new Set(['b']) });
    const b = folded.children[0]!.children[0]!.children.find((c) => c.id === 'b')!;
    assert.equal(b.collapsed, true);
    assert.equal(b.hidden, 1);
  });
});

describe('layout and keyboard moves', () => {
  test('left goes to the parent, right to the first child, down to the next sibling', () => {
    const layout = layoutGraph(buildProcessGraph(tree, { ...options, showLeaves: false }));
    assert.equal(moveSelection(layout, 'sh', 'ArrowLeft'), 'java');
    assert.equal(moveSelection(layout, 'sh', 'ArrowRight'), 'a');
    assert.equal(moveSelection(layout, 'a', 'ArrowDown'), 'b');
    assert.equal(moveSelection(layout, 'a', 'ArrowUp'), 'a');
    const a = layout.byId.get('a')!;
    const sh = layout.byId.get('sh')!;
    assert.ok(a.x > sh.x, 'children sit to the right of their parent');
  });
});

describe('exports', () => {
  test('CSV quotes commas and quotes and defuses formulas', () => {
    assert.equal(csvCell('a,"b"'), '"a,""b"""');
    assert.equal(csvCell('=cmd|x'), "'=cmd|x");
    const csv = treeToCsv([proc('sh', { arguments: '-c "<script>x</script>", y' })]);
    assert.match(csv, /"'-c ""<script>x<\/script>"", y"/);
  });
});

describe('the live window', () => {
  test('keeps the newest items up to the capacity', () => {
    assert.deepEqual(appendBounded([1, 2, 3], [4, 5], 4), [2, 3, 4, 5]);
    assert.deepEqual(appendBounded([1], [2, 3, 4, 5, 6], 3), [4, 5, 6]);
  });

  test('measures the rate over the last second', () => {
    const meter = new RateMeter(1_000);
    meter.record(100, 0);
    meter.record(50, 600);
    assert.equal(meter.perSecond(900), 150);
    assert.equal(meter.perSecond(1_100), 50);
  });

  test('renders only the visible rows, with some spare', () => {
    assert.deepEqual(visibleRange(2_000, 400, 20, 10_000, 5), { first: 95, last: 125 });
  });
});
