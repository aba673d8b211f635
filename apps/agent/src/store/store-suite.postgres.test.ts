/** The storage suites on a real PostgreSQL, started for the run and removed after it. */
import { after, before } from 'node:test';
import { postgresTarget, type StoreTarget } from '../testing/store-targets';
import { storeSuites } from './suite';

let target: StoreTarget | undefined;
before(async () => {
  target = await postgresTarget();
});
after(() => target?.stop());
storeSuites(() => target!);
