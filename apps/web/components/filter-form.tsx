'use client';

import { useState, type FormEvent } from 'react';
import {
  NUMBER_FILTERS,
  TEXT_FILTERS,
  type FilterName,
  type UrlFilters,
} from '../state/url-filters';

const LABELS: Record<FilterName, string> = {
  binary: 'binary',
  args: 'arguments',
  pid: 'pid',
  execId: 'exec_id',
  node: 'node',
  namespace: 'namespace',
  pod: 'pod',
  container: 'container (id or name)',
  workload: 'workload',
  ip: 'IP',
  port: 'port',
  path: 'file path',
  since: 'since (RFC 3339)',
  until: 'until (RFC 3339)',
  source: 'source',
};

const ORDER: FilterName[] = [...TEXT_FILTERS, ...NUMBER_FILTERS];

/** The process filters as a form; submitting hands the values to the page, which puts them in the URL. */
export function FilterForm({
  initial,
  onSubmit,
  fields = ORDER,
  submitLabel = 'Search',
}: {
  initial: UrlFilters;
  onSubmit: (values: Record<string, string>) => void;
  fields?: FilterName[];
  submitLabel?: string;
}) {
  const [values, setValues] = useState<Record<string, string>>(() =>
    Object.fromEntries(ORDER.map((name) => [name, String(initial[name] ?? '')])),
  );

  const submit = (event: FormEvent) => {
    event.preventDefault();
    onSubmit(values);
  };

  return (
    <form onSubmit={submit} aria-label="filters">
      <div className="filters">
        {fields.map((name) => (
          <label key={name}>
            {LABELS[name]}
            <input
              name={name}
              value={values[name] ?? ''}
              inputMode={name === 'pid' || name === 'port' ? 'numeric' : undefined}
              onChange={(event) => setValues({ ...values, [name]: event.target.value })}
            />
          </label>
        ))}
      </div>
      <button type="submit">{submitLabel}</button>
    </form>
  );
}
