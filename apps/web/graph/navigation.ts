import type { GraphLayout } from './layout';

export type Move = 'ArrowLeft' | 'ArrowRight' | 'ArrowUp' | 'ArrowDown';

/**
 * Keyboard moves over the drawn tree (left to right): left goes to the parent, right to the
 * first child, up and down to the previous and next sibling. A move that has nowhere to go
 * stays put.
 */
export function moveSelection(layout: GraphLayout, selectedId: string, move: Move): string {
  const current = layout.byId.get(selectedId);
  if (!current) return layout.nodes[0]?.id ?? selectedId;
  if (move === 'ArrowLeft') return current.parentId ?? selectedId;
  if (move === 'ArrowRight') return current.childIds[0] ?? selectedId;

  const parent = current.parentId ? layout.byId.get(current.parentId) : undefined;
  if (!parent) return selectedId;
  const index = parent.childIds.indexOf(selectedId);
  const next = move === 'ArrowUp' ? index - 1 : index + 1;
  return parent.childIds[next] ?? selectedId;
}
