'use client';

import Link from 'next/link';
import type { Detection } from '@proctrail/schema';
import { baseName } from '../graph/labels';
import { processHref } from '../state/url-filters';

/**
 * Detections as a list: severity, title, rule, time and the explanation, optionally with a
 * link to the process. Titles and explanations quote the traced processes: React children
 * only, never markup.
 */
export function DetectionList({
  detections,
  linkToProcess,
}: {
  detections: readonly Detection[];
  linkToProcess: boolean;
}) {
  return (
    <ul className="detection-list">
      {detections.map((d) => (
        <li
          key={d.id}
          className={`severity-${d.severity}`}
          data-testid="detection-row"
          data-exec-id={d.execId}
          data-rule={d.rule}
        >
          <span className="severity-tag">{d.severity}</span> <strong>{d.title}</strong>{' '}
          <span className="mono muted">{d.rule}</span>
          <div className="mono muted">
            {d.time}
            {d.nodeName && ` · ${d.nodeName}`}
            {linkToProcess && (
              <>
                {' · '}
                <Link href={processHref(d.execId, d.source)} data-testid="detection-process">
                  {baseName(d.binary)} ({d.pid ?? '?'})
                </Link>
              </>
            )}
          </div>
          <p>{d.explanation}</p>
        </li>
      ))}
    </ul>
  );
}
