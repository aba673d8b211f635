import { Suspense } from 'react';
import { LiveView } from '../../components/live-view';

export default function LivePage() {
  return (
    <Suspense fallback={<p className="muted">Loading…</p>}>
      <LiveView />
    </Suspense>
  );
}
