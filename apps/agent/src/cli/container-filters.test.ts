import { after } from 'node:test';
import { scratchDir } from '../testing/harness';
import { describeContainerFilters } from './container-filters.cases';

const scratch = scratchDir();
after(() => scratch.remove());
describeContainerFilters('SQLite', () => ['--db', scratch.db()]);
