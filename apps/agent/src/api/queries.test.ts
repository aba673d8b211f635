import { describeApiQueries } from './queries.cases';

describeApiQueries('SQLite', () => undefined);
