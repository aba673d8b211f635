/** detection.list over a real server on a real PostgreSQL, with SQLite's cases. */
import { after, before } from 'node:test';
import { PostgresStore } from '../store/postgres/postgres-store';
import { startTestPostgres, type TestPostgres } from '../testing/postgres';
import { describeDetectionList } from './detection-list.cases';

let postgres: TestPostgres | undefined;
before(async () => {
  postgres = await startTestPostgres();
});
after(() => postgres?.stop());
describeDetectionList('PostgreSQL', async () => ({
  store: await PostgresStore.open(postgres!.url),
  remove: () => undefined,
}));
