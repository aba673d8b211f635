import { Suspense } from 'react';
import { ProcessView } from '../../components/process-view';

export default function ProcessPage() {
  return (
    <Suspense fallback={<p className="muted">Loading…</p>}>
      <ProcessView />
    </Suspense>
  );
}
