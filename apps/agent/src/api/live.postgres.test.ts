/** The same cases as live.test.ts, on a real PostgreSQL: a database for each fixture. */
import { after, before } from 'node:test';
import { postgresTarget, type StoreTarget } from '../testing/store-targets';
import { describeLive } from './live.cases';

let target: StoreTarget | undefined;
before(async () => {
  target = await postgresTarget();
});
after(() => target?.stop());
describeLive('PostgreSQL', async () => (await target!.create('live'))[1]);
