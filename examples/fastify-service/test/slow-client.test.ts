import { start } from 'example-fastify-service';
import { describeSlowClients } from 'example-notes-app/e2e/slow-client';

describeSlowClients('fastify', start);
