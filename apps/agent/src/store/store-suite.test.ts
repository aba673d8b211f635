/** The storage suites on SQLite files. */
import { after } from 'node:test';
import { sqliteTarget } from '../testing/store-targets';
import { storeSuites } from './suite';

const target = sqliteTarget();
after(() => target.stop());
storeSuites(() => target);
