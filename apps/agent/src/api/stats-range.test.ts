import { describeStatsRange } from './stats-range.cases';

describeStatsRange('SQLite', () => undefined);
