import { start } from 'example-express-service';
import { describeSlowClients } from '../../notes-app/e2e/slow-client.js';

describeSlowClients('express', start);
