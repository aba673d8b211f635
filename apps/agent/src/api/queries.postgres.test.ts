/** The same cases as queries.test.ts, on a real PostgreSQL: a database for each fixture. */
import { postgresDatabaseForTests } from '../testing/store-targets';
import { describeApiQueries } from './queries.cases';

describeApiQueries('PostgreSQL', postgresDatabaseForTests('queries'));
