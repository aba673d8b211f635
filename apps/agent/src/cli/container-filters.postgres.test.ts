import { after, before } from 'node:test';
import { startTestPostgres, type TestPostgres } from '../testing/postgres';
import { describeContainerFilters } from './container-filters.cases';

let postgres: TestPostgres | undefined;
before(async () => {
  postgres = await startTestPostgres();
});
after(() => postgres?.stop());
describeContainerFilters('PostgreSQL', () => ['--store', postgres!.url]);
