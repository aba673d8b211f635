/** The same cases as stats-range.test.ts, on a real PostgreSQL: a database for each fixture. */
import { after, before } from 'node:test';
import { postgresTarget, type StoreTarget } from '../testing/store-targets';
import { describeStatsRange } from './stats-range.cases';

let target: StoreTarget | undefined;
let url: string | undefined;
before(async () => {
  target = await postgresTarget();
  url = (await target.create('stats_range'))[1];
});
after(() => target?.stop());
describeStatsRange('PostgreSQL', () => url);
