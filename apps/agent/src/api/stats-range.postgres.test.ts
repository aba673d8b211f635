/** The same cases as stats-range.test.ts, on a real PostgreSQL: a database for each fixture. */
import { postgresDatabaseForTests } from '../testing/store-targets';
import { describeStatsRange } from './stats-range.cases';

describeStatsRange('PostgreSQL', postgresDatabaseForTests('stats_range'));
