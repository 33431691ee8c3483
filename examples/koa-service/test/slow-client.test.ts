import { start } from 'example-koa-service';
import { describeSlowClients } from 'example-notes-app/e2e/slow-client';

describeSlowClients('koa', start);
