import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { ProcessTree, ProcessTreeNode } from '@proctrail/schema';
import { layoutGraph } from './layout';
import { buildProcessGraph } from './process-graph';
import { covers, inRect, LABEL_REACH, pointInRect, visibleRect } from './viewport';

function chainOfSiblings(count: number): ProcessTree {
  const child = (i: number): ProcessTreeNode => ({
    exec_id: `c${i}`,
    pid: i,
    binary: `/bin/c${i}`,
    start_time: new Date(Date.UTC(2026, 0, 1, 0, 0, i)).toISOString(),
    source: 'test',
    placeholder: false,
    relation: 'fork+exec',
    network: [],
    files: [],
    children: [],
    omittedChildren: 0,
  });
  return {
    process: { ...child(0), exec_id: 'root', children: undefined } as never,
    ancestors: [],
    children: Array.from({ length: count }, (_, i) => child(i + 1)),
    omittedDescendants: 0,
    ancestryTruncated: false,
  };
}

describe('the part of a tree on screen', () => {
  test('the visible rectangle undoes the zoom transform, grown by the margin', () => {
    assert.deepEqual(visibleRect({ x: 100, y: 50, k: 2 }, 800, 600), {
      minX: -50,
      maxX: 350,
      minY: -25,
      maxY: 275,
    });
    assert.deepEqual(visibleRect({ x: 0, y: 0, k: 1 }, 800, 600, 100), {
      minX: -100,
      maxX: 900,
      minY: -100,
      maxY: 700,
    });
  });

  test('a rectangle covers another only when it holds all of it', () => {
    const outer = { minX: 0, maxX: 100, minY: 0, maxY: 100 };
    assert.equal(covers(outer, { minX: 10, maxX: 90, minY: 0, maxY: 100 }), true);
    assert.equal(covers(outer, { minX: 10, maxX: 101, minY: 0, maxY: 100 }), false);
    assert.equal(pointInRect(5, 50, outer), true);
    assert.equal(pointInRect(5, 50, outer, 10), false);
  });

  test('of 200 siblings only those in the rows on screen are drawn, with the links crossing it', () => {
    const layout = layoutGraph(
      buildProcessGraph(chainOfSiblings(200), {
        showLeaves: false,
        collapsed: new Set(),
        expanded: new Set(['root']),
        childCap: 1000,
      }),
    );
    assert.equal(layout.nodes.length, 201);
    const root = layout.byId.get('root')!;
    // A screen 600 px high around the root's row: about 600 / 28 rows of children.
    const rect = visibleRect({ x: 100 - root.x, y: 300 - root.y, k: 1 }, 1000, 600);
    const { nodes, links } = inRect(layout, rect);
    assert.ok(
      nodes.some((n) => n.id === 'root'),
      'the root is drawn',
    );
    assert.ok(nodes.length > 15 && nodes.length < 30, `${nodes.length} nodes drawn`);
    for (const n of nodes) assert.ok(n.y >= rect.minY - 20 && n.y <= rect.maxY + 20);
    // Every link leaves the root on screen, so every link is drawn, even to children off it.
    assert.equal(links.length, 200);
    // Away from the root, only the links that pass through the rows on screen are drawn.
    const below = { ...rect, minY: rect.minY + 3000, maxY: rect.maxY + 3000 };
    const linksBelow = inRect(layout, below).links;
    assert.ok(linksBelow.length > 0 && linksBelow.length < 200, `${linksBelow.length} links`);
    for (const l of linksBelow) assert.ok(l.target.y >= below.minY, 'only links reaching down');
  });

  test('a node just left of the screen is drawn when its label reaches onto it', () => {
    const layout = layoutGraph(
      buildProcessGraph(chainOfSiblings(1), {
        showLeaves: false,
        collapsed: new Set(),
        expanded: new Set(),
        childCap: 50,
      }),
    );
    const child = layout.byId.get('c1')!;
    const justRight = {
      minX: child.x + LABEL_REACH - 10,
      maxX: child.x + 2000,
      minY: -500,
      maxY: 500,
    };
    assert.ok(inRect(layout, justRight).nodes.some((n) => n.id === 'c1'));
    const farRight = { ...justRight, minX: child.x + LABEL_REACH + 10 };
    assert.ok(!inRect(layout, farRight).nodes.some((n) => n.id === 'c1'));
  });
});
