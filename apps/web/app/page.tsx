import { Suspense } from 'react';
import { OverviewView } from '../components/overview-view';

export default function OverviewPage() {
  return (
    <Suspense fallback={<p className="muted">Loading…</p>}>
      <OverviewView />
    </Suspense>
  );
}
