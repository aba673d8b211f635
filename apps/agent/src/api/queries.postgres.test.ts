/** The same cases as queries.test.ts, on a real PostgreSQL: a database for each fixture. */
import { after, before } from 'node:test';
import { postgresTarget, type StoreTarget } from '../testing/store-targets';
import { describeApiQueries } from './queries.cases';

let target: StoreTarget | undefined;
let url: string | undefined;
before(async () => {
  target = await postgresTarget();
  url = (await target.create('queries'))[1];
});
after(() => target?.stop());
describeApiQueries('PostgreSQL', () => url);
