import { start } from 'example-express-service';
import { describeSlowClients } from 'example-notes-app/e2e/slow-client';

describeSlowClients('express', start);
