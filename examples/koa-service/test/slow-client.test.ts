import { start } from 'example-koa-service';
import { describeSlowClients } from '../../notes-app/e2e/slow-client.js';

describeSlowClients('koa', start);
