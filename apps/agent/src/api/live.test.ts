import { describeLive } from './live.cases';

describeLive('SQLite', async () => undefined);
