import { Suspense } from 'react';
import { InventoryView } from '../../components/inventory-view';

export default function InventoryPage() {
  return (
    <Suspense fallback={<p className="muted">Loading…</p>}>
      <InventoryView />
    </Suspense>
  );
}
